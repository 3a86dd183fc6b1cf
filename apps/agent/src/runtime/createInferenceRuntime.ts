import { ApiExposureError } from "../api/ApiExposureError.js";
import { LocalApiServer } from "../api/LocalApiServer.js";
import { InferenceRuntime, type InferenceRuntimeOptions } from "./InferenceRuntime.js";
import { RuntimeEvent } from "./RuntimeEvent.js";

export interface CreateInferenceRuntimeOptions extends InferenceRuntimeOptions {
  /** the local API bearer token (state.json `apiToken`); a function is read per request, so rotation applies at once */
  apiToken: string | null | (() => string | null);
  /** start loading the configured model in the background (default true) */
  autoLoad?: boolean;
}

/**
 * Start the inference host, the local API (unless disabled or unsafe: then it reports why and runs without
 * it) and, in the background, the configured model. Resolves once the API listens; never waits for a load.
 */
export async function createInferenceRuntime(opts: CreateInferenceRuntimeOptions): Promise<InferenceRuntime> {
  const runtime = new InferenceRuntime(opts);
  if (!opts.config.enabled) return runtime;
  await runtime.start();
  if (opts.config.api.enabled) {
    const token = typeof opts.apiToken === "function" ? opts.apiToken : () => opts.apiToken as string | null;
    const api = new LocalApiServer({ api: opts.config.api, token, backend: runtime, logger: opts.logger.child({ component: "local-api" }) });
    try {
      await api.start();
      runtime.attachApi(api);
    } catch (err) {
      if (!(err instanceof ApiExposureError)) {
        await runtime.stop();
        throw err;
      }
      opts.logger.error({ kind: RuntimeEvent.ApiRefused }, err.message);
      opts.onEvent?.({ at: new Date().toISOString(), level: "error", kind: RuntimeEvent.ApiRefused, message: err.message.slice(0, 2000) });
    }
  }
  if (opts.autoLoad !== false) void runtime.loadConfigured();
  return runtime;
}
