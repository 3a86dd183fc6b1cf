import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleInventory, ZCatalogEntryV1, ZRolloutDeviceViewV1, ZRolloutV1, type TCatalogEntryV1, type TRolloutDeviceViewV1, type TRolloutV1 } from "@fleet/protocol";
import { freePort, waitFor } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../apps/server/src/app.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { startRealAgent, TINY, type RealAgent } from "./support/realAgent.js";

const GROUP = "scenario";
const lenient = { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 0, maxErrorRate: 1, minTokensPerSecRatio: null };
const threeRings = [
  { name: "canary", percent: 25, soakSec: 0, gates: lenient },
  { name: "early", percent: 50, soakSec: 0, gates: lenient },
  { name: "broad", percent: 100, soakSec: 0, gates: lenient },
];

// Issue 11's scenarios with four real agents (each its own inference host serving the tiny model, its own NATS
// identity, TUF client and assignment watcher) against a real server, NATS and PostgreSQL.
describe("staged rollouts over four real agents", () => {
  let srv: TestServer;
  const agents: RealAgent[] = [];
  let oldRuntimeDevice: string;
  let tmp: string;
  let restarted: FleetServer | null = null;

  const rollout = async (id: string): Promise<TRolloutV1> => ZRolloutV1.parse(await (await srv.admin(`/api/v1/rollouts/${id}`)).json());
  const devices = async (id: string): Promise<TRolloutDeviceViewV1[]> =>
    ((await (await srv.admin(`/api/v1/rollouts/${id}/devices?pageSize=50`)).json()) as { items: unknown[] }).items.map((d) => ZRolloutDeviceViewV1.parse(d));
  const importApproved = async (name: string, version: string, file: string, runtime?: { minNodeLlamaCpp: string }): Promise<TCatalogEntryV1> => {
    const res = await srv.admin("/api/v1/catalog/import", {
      method: "POST",
      body: JSON.stringify({ name, version, source: { repository: `test/${name}`, revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: file, runtime }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const draft = ZCatalogEntryV1.parse(await res.json());
    const ok = await srv.admin(`/api/v1/catalog/${draft.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "scenario" }) });
    expect(ok.status).toBe(200);
    return ZCatalogEntryV1.parse(await ok.json());
  };
  const compatible = (entryId: string, runnable: number, incompatible: number) =>
    waitFor(async () => {
      const r = await srv.admin(`/api/v1/catalog/${entryId}/compatibility`);
      if (r.status !== 200) return null;
      const t = ((await r.json()) as { totals: Record<string, number> }).totals;
      const run = (t["cpu-only"] ?? 0) + (t["gpu-full"] ?? 0) + (t["gpu-partial"] ?? 0);
      return run === runnable && (t["incompatible-runtime"] ?? 0) === incompatible ? t : null;
    }, `${runnable} compatible and ${incompatible} runtime-incompatible devices`, 60_000);
  const serving = () => agents.map((a) => a.runtime.status().activeModel);

  beforeAll(async () => {
    // a fixed port, so the server restarted mid-rollout answers where the agents enrolled
    srv = await startTestServer({ PORT: String(await freePort()) });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-scenario-"));
    // the four agents start side by side (each spawns its own inference host and loads the tiny model: one after
    // another this was most of the file's time); `agents` keeps their names' order, which the tests index by
    const names = ["ws-1", "ws-2", "ws-3", "ws-4"];
    const started = await Promise.allSettled(names.map((name) => startRealAgent(srv, name, GROUP)));
    for (const s of started) if (s.status === "fulfilled") agents.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    // A fifth workstation in the group with an older inference runtime than the entry requires (simulated: this machine
    // has one runtime only); it must be skipped with its reason and never sent the model.
    const old = await srv.enrollDevice("ws-old-runtime");
    oldRuntimeDevice = old.id;
    await old.publish({
      v: 1,
      kind: "inventory",
      deviceId: old.id,
      msgId: randomUUID(),
      seq: old.seq++,
      sentAt: new Date().toISOString(),
      body: { ...exampleInventory, collectedAt: new Date().toISOString(), runtime: { nodeLlamaCpp: "3.0.0", llamaCppRelease: null, backends: ["cpu"] } },
    });
    expect((await srv.admin(`/api/v1/devices/${old.id}/labels`, { method: "PUT", body: JSON.stringify({ group: GROUP }) })).status).toBe(200);
  }, 240_000);
  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.stop()));
    await restarted?.close();
    await srv?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  let good: TCatalogEntryV1;
  let goodRollout: TRolloutV1;

  it("a 3-ring rollout reaches active on every compatible agent and skips the incompatible one with its reason", async () => {
    good = await importApproved("tiny", "2.0.0", TINY, { minNodeLlamaCpp: "3.22.0" });
    await compatible(good.id, 4, 1);
    const res = await srv.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: good.id, group: GROUP, rings: threeRings }) });
    expect(res.status, await res.clone().text()).toBe(201);
    goodRollout = ZRolloutV1.parse(await res.json());
    expect(goodRollout.rings.map((r) => r.devices)).toEqual([1, 1, 2]);

    const done = await waitFor(async () => ((await rollout(goodRollout.id)).state === "completed" ? rollout(goodRollout.id) : null), "rollout completed", 120_000);
    expect(done.totals.active).toBe(4);
    expect(done.totals.skipped).toBe(1);
    const rows = await devices(goodRollout.id);
    const skipped = rows.find((d) => d.deviceId === oldRuntimeDevice);
    expect(skipped).toMatchObject({ state: "skipped", assignmentVersion: null });
    expect(skipped?.reason).toMatch(/node-llama-cpp/);
    // the skipped device was never sent anything
    expect((await srv.db.prisma.deviceAssignment.findUnique({ where: { deviceId: oldRuntimeDevice } })) === null).toBe(true);
    expect(serving()).toEqual(agents.map(() => good.targetPath));
    // adoption over time comes from the recorded transitions
    const adoption = (await (await srv.admin(`/api/v1/rollouts/${goodRollout.id}/adoption`)).json()) as { timeToActiveSec: { ring: number; n: number }[] };
    expect(adoption.timeToActiveSec.map((r) => r.n)).toEqual([1, 1, 2]);
  }, 180_000);

  it("a canary whose artifact is a truncated GGUF fails its self-test: the gate pauses the rollout and the canary rolls back by itself", async () => {
    const bytes = await fs.readFile(TINY);
    const truncated = path.join(tmp, "tiny-truncated.gguf");
    await fs.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    // the same runtime requirement keeps the simulated old-runtime device out, so the canary is one real agent
    const broken = await importApproved("tiny-broken", "1.0.0", truncated, { minNodeLlamaCpp: "3.22.0" });
    await compatible(broken.id, 4, 1);
    const res = await srv.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: broken.id, group: GROUP, rings: threeRings }) });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = ZRolloutV1.parse(await res.json());
    const paused = await waitFor(async () => {
      const r = await rollout(created.id);
      return r.state === "paused" && r.totals.rolled_back === 1 ? r : null;
    }, "rollout paused with the canary rolled back", 120_000);
    expect(paused.reason).toBeTruthy();
    expect(paused.rings[0]?.gates.some((g) => !g.pass)).toBe(true);
    const rows = await devices(created.id);
    expect(rows.filter((d) => d.ring === 0)).toHaveLength(1);
    const canary = rows.find((d) => d.ring === 0);
    expect(canary?.state).toBe("rolled_back");
    expect(canary?.timeline).toHaveProperty("failed");
    // later rings were never assigned the broken model
    expect(rows.filter((d) => d.ring !== null && d.ring > 0).every((d) => d.state === "waiting" && d.assignmentVersion === null)).toBe(true);
    // every agent, the canary included, still serves the good model
    expect(serving()).toEqual(agents.map(() => good.targetPath));
    const abort = await srv.admin(`/api/v1/rollouts/${created.id}/abort`, { method: "POST", body: JSON.stringify({ reason: "broken artifact" }) });
    expect(abort.status).toBe(200);
  }, 180_000);

  it("a manual rollback of one device, then of the whole rollout, returns the agents to the model that served before", async () => {
    const one = agents[0]!;
    const r1 = await srv.admin(`/api/v1/rollouts/${goodRollout.id}/devices/${one.state.deviceId}/rollback`, { method: "POST", body: JSON.stringify({ reason: "user reports bad answers" }) });
    expect(r1.status, await r1.clone().text()).toBe(200);
    await waitFor(() => (one.runtime.status().activeModel === "llama-2-tiny-random.gguf" ? true : null), "the one device serves its previous model", 60_000);
    await waitFor(async () => ((await devices(goodRollout.id)).find((d) => d.deviceId === one.state.deviceId)?.state === "rolled_back" ? true : null), "its row is rolled_back", 30_000);
    expect(agents.slice(1).map((a) => a.runtime.status().activeModel)).toEqual(agents.slice(1).map(() => good.targetPath));

    const all = await srv.admin(`/api/v1/rollouts/${goodRollout.id}/rollback`, { method: "POST", body: JSON.stringify({ reason: "roll the fleet back" }) });
    expect(all.status, await all.clone().text()).toBe(200);
    await waitFor(() => (serving().every((m) => m === "llama-2-tiny-random.gguf") ? true : null), "every agent serves its previous model", 90_000);
    const after = await waitFor(async () => {
      const r = await rollout(goodRollout.id);
      return r.state === "rolled_back" && r.totals.rolled_back === 4 ? r : null;
    }, "rollout rolled back", 60_000);
    expect(after.totals.active ?? 0).toBe(0);
    const audit = await srv.db.prisma.auditLog.findMany({ where: { targetId: goodRollout.id } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining([expect.stringMatching(/rollback/)]));
  }, 180_000);

  it("the server and NATS restarted mid-rollout: the rollout resumes and the agents, offline meanwhile, converge", async () => {
    const next = await importApproved("tiny", "3.0.0", TINY, { minNodeLlamaCpp: "3.22.0" });
    await compatible(next.id, 4, 1);
    const rings = threeRings.map((r, i) => (i === 0 ? { ...r, soakSec: 2 } : r));
    const res = await srv.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: next.id, group: GROUP, rings }) });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = ZRolloutV1.parse(await res.json());
    await waitFor(async () => ((await rollout(created.id)).totals.active === 1 ? true : null), "the canary is active", 60_000);

    await srv.server.close();
    await srv.nats.stop();
    await waitFor(() => (agents.every((a) => !a.service.status().connected) ? true : null), "every agent sees NATS gone", 30_000);
    await srv.nats.start();
    restarted = await createServer(srv.config, { prisma: srv.db.prisma });
    expect(restarted.url).toBe(srv.url);

    const done = await waitFor(async () => {
      const r = await rollout(created.id);
      return r.state === "completed" ? r : null;
    }, "the rollout completes after the restarts", 120_000);
    expect(done.totals.active).toBe(4);
    expect(serving()).toEqual(agents.map(() => next.targetPath));
  }, 240_000);
});
