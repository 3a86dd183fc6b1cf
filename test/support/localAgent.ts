import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AgentService, enroll, loadAgentConfig, type AgentConfig, type AgentState } from "@fleet/agent";

export const TINY_MODEL = fileURLToPath(new URL("../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));
export const TINY_SHA256 = "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb";

export interface LocalAgent {
  home: string;
  modelsDir: string;
  state: AgentState;
  config: AgentConfig;
  service: AgentService;
  /** stop the service (the home stays, so a new one can pick up its queue) */
  stop(): Promise<void>;
  /** a new AgentService on the same home, as after a restart */
  restart(): Promise<AgentService>;
  dispose(): Promise<void>;
}

/**
 * A real agent, enrolled through the real REST API with a one-time token, with the tiny model installed,
 * running in this process with short intervals so tests see reports quickly.
 */
export async function startLocalAgent(opts: { serverUrl: string; token: string; hostname?: string; runtime?: false; configFlags?: Record<string, unknown> }): Promise<LocalAgent> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-agent-"));
  const modelsDir = path.join(home, "models");
  await fs.mkdir(modelsDir, { recursive: true });
  await fs.copyFile(TINY_MODEL, path.join(modelsDir, "llama-2-tiny-random.gguf"));
  const state = await enroll({ serverUrl: opts.serverUrl, token: opts.token, home, hostname: opts.hostname });
  const config = await loadAgentConfig({
    env: {},
    flags: { home, modelsDir, heartbeatIntervalSec: 1, inventoryIntervalSec: 3600, runtime: { enabled: false }, ...opts.configFlags } as never,
  });
  const make = () => new AgentService({ config, state, tuning: { natsRetryMs: 100, watchDebounceMs: 200, stopDrainMs: 1000 } });
  let service = make();
  await service.start();
  const agent: LocalAgent = {
    home,
    modelsDir,
    state,
    config,
    service,
    stop: () => agent.service.stop(),
    restart: async () => {
      await agent.service.stop();
      service = make();
      agent.service = service;
      await service.start();
      return service;
    },
    dispose: async () => {
      await agent.service.stop().catch(() => undefined);
      await fs.rm(home, { recursive: true, force: true });
    },
  };
  return agent;
}
