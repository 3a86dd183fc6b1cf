import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import type { TReportV1 } from "@fleet/protocol";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { loadAgentConfig } from "../config/loadAgentConfig.js";
import { AgentService } from "../reporting/AgentService.js";
import { ReportsReader } from "../testing/ReportsReader.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { createInferenceRuntime } from "./createInferenceRuntime.js";
import type { InferenceRuntime } from "./InferenceRuntime.js";
import { quietLogger, TINY_MODEL } from "./testing/runtimeFixtures.js";

const PREFIX = `hb${Date.now() % 100000}.fleet.v1`;

/**
 * The whole agent in process (AgentService + real runtime + local API) against a private nats-server:
 * heartbeats keep arriving while a long generation runs, and the request's metrics reach the server.
 */
describe("heartbeats while the runtime generates", () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let cleanup: () => Promise<void>;
  let service: AgentService;
  let runtime: InferenceRuntime;
  let reader: ReportsReader;
  let token: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect(nats.connectOptions());
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const identity = await makeTestIdentity({ natsUrl: nats.url, subjectPrefix: PREFIX }, nats);
    token = identity.state.localApiToken;
    const config = await loadAgentConfig({
      env: { FLEET_AGENT_HOME: path.join(tmp.dir, "home") },
      flags: { heartbeatIntervalSec: 0.2, runtime: { threads: 1, contextSize: 512, headroomBytes: 0, metricsIntervalSec: 1, api: { port: 0, maxTokens: 4000 } } },
    });
    await fs.mkdir(config.modelsDir, { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(config.modelsDir, "tiny.gguf"));
    reader = new ReportsReader(nc, PREFIX, identity.devicePublicKey);
    await reader.createStream();
    runtime = await createInferenceRuntime({ config: config.runtime, modelsDir: config.modelsDir, apiToken: token, logger: quietLogger(), gpu: false, autoLoad: false });
    expect(await runtime.loadConfigured()).toBe(true);
    service = new AgentService({ config, state: identity.state, runtime, tuning: { natsRetryMs: 100, stopDrainMs: 2000 } });
    await service.start();
  });
  afterAll(async () => {
    await service?.stop(); // stops the runtime too
    await nc?.close().catch(() => {});
    await nats?.dispose();
    await cleanup?.();
  });

  it("keeps sending heartbeats during a long generation through the local API", async () => {
    const heartbeats = (all: TReportV1[]) => all.filter((r) => r.kind === "heartbeat");
    await waitFor(async () => heartbeats(await reader.readAll()).some((h) => h.kind === "heartbeat" && h.body.runtime.state === "ready"), "a ready heartbeat");
    const port = runtime.localApiExposure().port;
    const start = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "tiny.gguf", prompt: "Tell a very long story:", max_tokens: 3000, stream: true }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const end = Date.now();
    expect(end - start).toBeGreaterThan(800); // long enough to span several 200 ms heartbeat intervals

    const all = await waitFor(async () => {
      const r = await reader.readAll();
      return r.some((m) => m.kind === "metrics" && m.body.models.length > 0) ? r : null;
    }, "a metrics report with the request");
    const during = heartbeats(all).filter((h) => {
      const t = Date.parse(h.sentAt);
      return t >= start && t <= end;
    });
    // one every 200 ms; allow for timer drift on a loaded 2-core machine
    expect(during.length).toBeGreaterThanOrEqual(Math.max(3, Math.floor((end - start) / 200 / 2)));
    const metrics = all.find((m) => m.kind === "metrics" && m.body.models.length > 0);
    expect(metrics?.kind === "metrics" && metrics.body.models[0]).toMatchObject({ modelId: "tiny.gguf", requests: 1, errors: 0 });
    const posture = all.find((m) => m.kind === "posture");
    expect(posture?.kind === "posture" && posture.body.localApi).toMatchObject({ enabled: true, bindAddress: "127.0.0.1", port, loopbackOnly: true, authRequired: true });
  });
});
