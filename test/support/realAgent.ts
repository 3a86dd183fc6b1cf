import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AgentService, CatalogUpdater, createInferenceRuntime, enroll, knownGoodPath, loadAgentConfig, silentLogger, type AgentState, type InferenceRuntime, type ResourceGovernor } from "@fleet/agent";
import type { TestServer } from "./server.js";

export const TINY = fileURLToPath(new URL("../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

export interface RealAgent {
  name: string;
  home: string;
  state: AgentState;
  runtime: InferenceRuntime;
  service: AgentService;
  stop(): Promise<void>;
}

/**
 * A whole agent as `fleet-agent run` builds it, in this process: enrolled through the real REST API, serving the
 * tiny model from its own inference host, applying its signed assignments through TUF, in a device group.
 * `srv` is any server: its URL and a fetch as admin (the console's browser tests pass their own).
 */
export async function startRealAgent(srv: Pick<TestServer, "url" | "admin">, name: string, group: string, extra: { governor?: (runtime: InferenceRuntime) => ResourceGovernor } = {}): Promise<RealAgent> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), `fleet-e2e-${name}-`));
  const modelsDir = path.join(home, "models");
  await fs.mkdir(modelsDir);
  await fs.copyFile(TINY, path.join(modelsDir, "llama-2-tiny-random.gguf"));
  const tok = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600, note: name }) });
  const state = await enroll({ serverUrl: srv.url, token: ((await tok.json()) as { token: string }).token, home, hostname: name });
  const config = await loadAgentConfig({
    env: {},
    flags: {
      home,
      modelsDir,
      heartbeatIntervalSec: 1,
      runtime: { threads: 1, contextSize: 512, headroomBytes: 0, memoryBudgetBytes: 2 * 1024 ** 3, metricsIntervalSec: 1, api: { enabled: false } },
      update: { diskMarginBytes: 0, assignmentPollSec: 2, retrySec: 1 },
    } as never,
  });
  const runtime = await createInferenceRuntime({ config: config.runtime, modelsDir, apiToken: null, logger: silentLogger(), gpu: false, autoLoad: false, knownGoodFile: knownGoodPath(home) });
  if (!(await runtime.loadConfigured())) throw new Error(`${name}: the tiny model did not load`);
  const updater = new CatalogUpdater({ home, modelsDir, serverUrl: srv.url, state, config: config.update, runtime, logger: silentLogger() });
  const service = new AgentService({ config, state, runtime, updater, governor: extra.governor?.(runtime), tuning: { natsRetryMs: 100, stopDrainMs: 1000 } });
  await service.start();
  const labels = await srv.admin(`/api/v1/devices/${state.deviceId}/labels`, { method: "PUT", body: JSON.stringify({ group }) });
  if (labels.status !== 200) throw new Error(`${name}: labels answered ${labels.status}`);
  return {
    name,
    home,
    state,
    runtime,
    service,
    stop: async () => {
      await service.stop(); // stops the runtime too
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
