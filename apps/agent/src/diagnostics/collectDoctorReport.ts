import os from "node:os";
import type { Logger } from "pino";
import type { TMemoryPlanV1 } from "@fleet/protocol";
import type { AgentConfig } from "../config/ZAgentConfig.js";
import { AGENT_VERSION } from "../version.js";
import { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import type { HostInfo } from "../runtime/host/hostProtocol.js";
import { assertSafeBind } from "../api/assertSafeBind.js";
import { isLoopbackHost } from "../api/isLoopbackHost.js";

export interface DoctorReport {
  agentVersion: string;
  node: string;
  os: { platform: string; release: string; arch: string };
  cpu: { model: string; cores: number };
  memory: { totalBytes: number; freeBytes: number; budgetBytes: number | null; headroomBytes: number };
  /** null when the inference host could not start; `hostError` says why */
  capabilities: HostInfo | null;
  hostError: string | null;
  modelsDir: string;
  models: { id: string; sizeBytes: number; plan: TMemoryPlanV1 | null; error: string | null }[];
  api: {
    enabled: boolean;
    bind: string;
    port: number;
    loopbackOnly: boolean;
    allowRemote: boolean;
    tokenPresent: boolean;
    corsOrigins: string[];
    limits: { rateLimitPerMinute: number; maxBodyBytes: number; maxTokens: number; requestTimeoutMs: number };
    /** null when the API would start; else the reason it refuses */
    refusal: string | null;
  };
}

/**
 * Everything `fleet-agent doctor` shows: what this machine can run (backends, RAM/VRAM from the same
 * inference host the service uses), the memory-fit plan for every installed model, and the API exposure.
 */
export async function collectDoctorReport(config: AgentConfig, apiToken: string | null, logger: Logger): Promise<DoctorReport> {
  const rc = config.runtime;
  const runtime = new InferenceRuntime({ config: { ...rc, enabled: true }, modelsDir: config.modelsDir, logger });
  let capabilities: HostInfo | null = null;
  let hostError: string | null = null;
  const models: DoctorReport["models"] = [];
  try {
    await runtime.start();
    capabilities = await runtime.hostInfo();
    for (const m of await runtime.installedModels()) {
      const plan = await runtime.plan(m.id).then(
        (p) => ({ plan: p, error: null }),
        (err: Error) => ({ plan: null, error: err.message }),
      );
      models.push({ id: m.id, sizeBytes: m.sizeBytes, ...plan });
    }
  } catch (err) {
    hostError = err instanceof Error ? err.message : String(err);
    for (const m of await runtime.installedModels()) models.push({ id: m.id, sizeBytes: m.sizeBytes, plan: null, error: "inference host unavailable" });
  } finally {
    await runtime.stop();
  }
  let refusal: string | null = null;
  try {
    assertSafeBind(rc.api, apiToken);
  } catch (err) {
    refusal = (err as Error).message;
  }
  return {
    agentVersion: AGENT_VERSION,
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: { model: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism() },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem(), budgetBytes: rc.memoryBudgetBytes, headroomBytes: rc.headroomBytes },
    capabilities,
    hostError,
    modelsDir: config.modelsDir,
    models,
    api: {
      enabled: rc.enabled && rc.api.enabled,
      bind: rc.api.host,
      port: rc.api.port,
      loopbackOnly: isLoopbackHost(rc.api.host),
      allowRemote: rc.api.allowRemote,
      tokenPresent: apiToken !== null,
      corsOrigins: rc.api.corsOrigins,
      limits: { rateLimitPerMinute: rc.api.rateLimitPerMinute, maxBodyBytes: rc.api.maxBodyBytes, maxTokens: rc.api.maxTokens, requestTimeoutMs: rc.api.requestTimeoutMs },
      refusal,
    },
  };
}
