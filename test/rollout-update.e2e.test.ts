import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, ZRolloutDeviceViewV1, ZRolloutV1, type TCatalogEntryV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { AgentService, CatalogUpdater, createInferenceRuntime, enroll, knownGoodPath, loadAgentConfig, readKnownGood, silentLogger, type AgentConfig, type AgentState, type InferenceRuntime } from "@fleet/agent";
import { startTestServer, type TestServer } from "./support/server.js";

const TINY = fileURLToPath(new URL("../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

// The whole issue-11 path with real parts: import + approve on the server, the agent's inventory makes it compatible,
// a rollout assigns it (signed, in the KV bucket), the agent installs it through TUF, self-tests and serves it, and
// its update reports move the rollout to completed.
describe("rollout to a real agent", () => {
  let srv: TestServer;
  let home: string;
  let state: AgentState;
  let config: AgentConfig;
  let runtime: InferenceRuntime;
  let service: AgentService;
  let entry: TCatalogEntryV1;

  beforeAll(async () => {
    srv = await startTestServer();
    home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-rollout-"));
    const modelsDir = path.join(home, "models");
    await fs.mkdir(modelsDir);
    await fs.copyFile(TINY, path.join(modelsDir, "llama-2-tiny-random.gguf"));
    const tok = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600, note: "rollout e2e" }) });
    state = await enroll({ serverUrl: srv.url, token: ((await tok.json()) as { token: string }).token, home, hostname: "e2e-rollout" });
    config = await loadAgentConfig({
      env: {},
      flags: {
        home,
        modelsDir,
        heartbeatIntervalSec: 1,
        runtime: { threads: 1, contextSize: 512, headroomBytes: 0, memoryBudgetBytes: 2 * 1024 ** 3, metricsIntervalSec: 1, api: { enabled: false } },
        update: { diskMarginBytes: 0, assignmentPollSec: 2 },
      } as never,
    });
    runtime = await createInferenceRuntime({ config: config.runtime, modelsDir, apiToken: null, logger: silentLogger(), gpu: false, autoLoad: false, knownGoodFile: knownGoodPath(home) });
    expect(await runtime.loadConfigured()).toBe(true);
    const updater = new CatalogUpdater({ home, modelsDir, serverUrl: srv.url, state, config: config.update, runtime, logger: silentLogger() });
    service = new AgentService({ config, state, runtime, updater, tuning: { natsRetryMs: 100, stopDrainMs: 1000 } });
    await service.start();

    const labels = await srv.admin(`/api/v1/devices/${state.deviceId}/labels`, { method: "PUT", body: JSON.stringify({ group: "e2e-rollout" }) });
    expect(labels.status).toBe(200);
    const imported = await srv.admin("/api/v1/catalog/import", {
      method: "POST",
      body: JSON.stringify({ name: "tiny", version: "2", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: TINY }),
    });
    expect(imported.status).toBe(201);
    const draft = ZCatalogEntryV1.parse(await imported.json());
    const approved = await srv.admin(`/api/v1/catalog/${draft.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "e2e" }) });
    expect(approved.status).toBe(200);
    entry = ZCatalogEntryV1.parse(await approved.json());
  });
  afterAll(async () => {
    await service?.stop(); // stops the runtime too
    await srv?.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  it("the rollout completes with the device active, serving the new model", async () => {
    let lastCompat = "";
    // compatibility comes from the agent's own inventory report (which now carries its runtime)
    await waitFor(async () => {
      const r = await srv.admin(`/api/v1/catalog/${entry.id}/compatibility`);
      const text = await r.text();
      lastCompat = `${r.status} ${text.slice(0, 1500)}`;
      if (r.status !== 200) return null;
      const totals = (JSON.parse(text) as { totals: Record<string, number> }).totals;
      // the only device in this server's fleet is the agent under test
      return (totals["cpu-only"] ?? 0) + (totals["gpu-full"] ?? 0) + (totals["gpu-partial"] ?? 0) === 1 ? totals : null;
    }, "the device is compatible with the entry", 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer: ${lastCompat}`);
    });
    const gates = { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 0, maxErrorRate: 1, minTokensPerSecRatio: null };
    const res = await srv.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "e2e-rollout", rings: [{ name: "all", percent: 100, soakSec: 0, gates }] }) });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = ZRolloutV1.parse(await res.json());
    expect(created.totals.skipped ?? 0).toBe(0);

    const done = await waitFor(async () => {
      const r = ZRolloutV1.parse(await (await srv.admin(`/api/v1/rollouts/${created.id}`)).json());
      return r.state === "completed" ? r : null;
    }, "rollout completed", 60_000);
    expect(done.totals.active).toBe(1);
    const devices = ((await (await srv.admin(`/api/v1/rollouts/${created.id}/devices`)).json()) as { items: unknown[] }).items.map((d) => ZRolloutDeviceViewV1.parse(d));
    expect(devices).toEqual([expect.objectContaining({ deviceId: state.deviceId, state: "active" })]);
    expect(runtime.status().activeModel).toBe(entry.targetPath);
    expect(await readKnownGood(knownGoodPath(home))).toMatchObject({ model: entry.targetPath });
  });
});
