// Child process for the idle measurement: the agent's inference runtime + local API, model loaded, no traffic.
import { quietLogger } from "./quietLogger.mjs";
import { createInferenceRuntime } from "../../apps/agent/dist/runtime/createInferenceRuntime.js";
import { ZRuntimeConfig } from "../../apps/agent/dist/runtime/config.js";

const [modelsDir, token, threads] = process.argv.slice(2);
const runtime = await createInferenceRuntime({
  config: ZRuntimeConfig.parse({ threads: Number(threads), contextSize: 2048, api: { port: 0 } }),
  modelsDir,
  apiToken: token,
  logger: quietLogger(),
  gpu: false,
  autoLoad: false,
});
const loaded = await runtime.loadConfigured();
process.send({ ready: loaded, port: runtime.localApiExposure().port, hostPid: runtime.hostPid });
process.on("disconnect", async () => {
  await runtime.stop();
  process.exit(0);
});
