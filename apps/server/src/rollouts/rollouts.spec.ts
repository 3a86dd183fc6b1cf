import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ASSIGNMENT_BUCKET, ZRolloutAdoptionV1, ZRolloutDeviceViewV1, ZRolloutV1, type TCompatibilityClass, type TRingSpecV1, type TRolloutV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { z } from "zod";
import { newCatalogEntry, setCompatibility, type TestEntry } from "../testing/catalog-factory.js";
import { heartbeatBody, inventoryBody, metricsBody, modelEntry, modelsBody } from "../testing/fixtures.js";
import { RolloutDevice, type InstallOutcome } from "../testing/rollout-device.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { RevokedEntries } from "./revoked-entries.js";
import { RolloutScheduler } from "./rollout.scheduler.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

const ZDeviceList = z.object({ items: z.array(ZRolloutDeviceViewV1), total: z.number() });
const ring = (name: string, percent: number, soakSec = 0, gates: Partial<TRingSpecV1["gates"]> = {}): TRingSpecV1 => ({
  name,
  percent,
  soakSec,
  gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8, ...gates },
});

/** n enrolled devices labelled with `group`, following their assignments; `classes[i]` is device i's compatibility. */
async function fleet(group: string, entry: TestEntry, classes: TCompatibilityClass[], outcome?: (d: number) => InstallOutcome): Promise<RolloutDevice[]> {
  const devices: RolloutDevice[] = [];
  for (const [i, cls] of classes.entries()) {
    const sim = await t.enrollDevice(`${group}-${i}`);
    const res = await t.admin(`/api/v1/devices/${sim.id}/labels`, { method: "PUT", body: JSON.stringify({ group, site: "lab" }) });
    expect(res.status).toBe(200);
    await setCompatibility(t.db.prisma, entry.id, sim.id, cls, cls === "does-not-fit" ? "needs 9.1 GiB, the device has 4 GiB of RAM" : null);
    const d = await RolloutDevice.attach(sim, outcome ? () => outcome(i) : undefined);
    await d.start();
    devices.push(d);
  }
  return devices;
}

async function createRollout(entryId: string, group: string, rings: TRingSpecV1[]): Promise<TRolloutV1> {
  const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId, group, rings }) });
  expect(res.status, await res.clone().text()).toBe(201);
  return ZRolloutV1.parse(await res.json());
}

async function rollout(id: string): Promise<TRolloutV1> {
  const res = await t.admin(`/api/v1/rollouts/${id}`);
  expect(res.status).toBe(200);
  return ZRolloutV1.parse(await res.json());
}

async function devicesOf(id: string, query = "") {
  const res = await t.admin(`/api/v1/rollouts/${id}/devices?pageSize=500${query}`);
  expect(res.status).toBe(200);
  return ZDeviceList.parse(await res.json()).items;
}

const action = (id: string, what: string, reason = "test") => t.admin(`/api/v1/rollouts/${id}/${what}`, { method: "POST", body: JSON.stringify({ reason }) });

describe("rollouts", () => {
  it("a 3-ring rollout reaches active on the compatible devices and skips the incompatible one with its reason", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-happy", entry, ["cpu-only", "gpu-full", "gpu-partial", "cpu-only", "does-not-fit"]);
    const created = await createRollout(entry.id, "g-happy", [ring("canary", 25), ring("early", 50, 1), ring("broad", 100)]);
    expect(created.totals.skipped).toBe(1);
    expect(created.rings.map((r) => r.devices)).toEqual([1, 1, 2]);

    const done = await waitFor(async () => ((await rollout(created.id)).state === "completed" ? rollout(created.id) : null), "rollout completed", 30_000);
    expect(done.totals.active).toBe(4);
    expect(done.rings.every((r) => r.passedAt !== null && r.gates.every((g) => g.pass))).toBe(true);
    expect(done.rings[0]!.gates.map((g) => g.gate)).toEqual(["maxFailureRate", "minSuccesses", "minLoadSuccessRate", "maxErrorRate", "minTokensPerSecRatio"]);

    const rows = await devicesOf(created.id);
    const skipped = rows.filter((r) => r.state === "skipped");
    expect(skipped).toEqual([expect.objectContaining({ deviceId: ds[4]!.id, ring: null, reason: "does-not-fit: needs 9.1 GiB, the device has 4 GiB of RAM" })]);
    // The incompatible device was never sent the model: no assignment in the bucket, none in the database.
    await ds[4]!.poll();
    expect(ds[4]!.accepted).toEqual([]);
    expect(await t.db.prisma.deviceAssignment.findUnique({ where: { deviceId: ds[4]!.id } })).toBeNull();
    for (const d of ds.slice(0, 4)) {
      expect(d.accepted.map((a) => [a.action, a.desired?.sha256, a.rolloutId])).toEqual([["install", entry.sha256, created.id]]);
      expect(d.refused).toEqual([]);
    }
    // Ring order: ring i started only after ring i-1 passed.
    for (let i = 1; i < 3; i++) expect(Date.parse(done.rings[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done.rings[i - 1]!.passedAt!));

    const adoption = ZRolloutAdoptionV1.parse(await (await t.admin(`/api/v1/rollouts/${created.id}/adoption`)).json());
    expect(adoption.buckets.at(-1)!.counts).toMatchObject({ active: 4, skipped: 1 });
    expect(adoption.timeToActiveSec.map((x) => [x.ring, x.n])).toEqual([[0, 1], [1, 1], [2, 2]]);

    const audit = await t.db.prisma.auditLog.findMany({ where: { targetId: created.id }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["rollout.create", "rollout.completed"]);
  });

  it("a canary failing its self-test fails the gate, pauses the rollout and rolls the canary back", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-canary", entry, ["cpu-only", "cpu-only", "cpu-only"], () => ({ ok: false, code: "self_test_failed", reason: "generated no tokens", selfTestFailed: true }));
    const created = await createRollout(entry.id, "g-canary", [ring("canary", 30), ring("broad", 100)]);
    const paused = await waitFor(async () => {
      const r = await rollout(created.id);
      return r.state === "paused" && r.totals.rolled_back === 1 ? r : null;
    }, "rollout paused with the canary rolled back");
    expect(paused.reason).toMatch(/^ring 0 \(canary\) failed its gates: install failure rate 1 \(1 of 1 devices failed or rolled back\) exceeds the maximum 0/);
    expect(paused.rings[0]!.gates.find((g) => g.gate === "maxFailureRate")).toMatchObject({ value: 1, threshold: 0, pass: false });
    const [canary] = await devicesOf(created.id, "&ring=0");
    const dev = ds.find((d) => d.id === canary!.deviceId)!;
    expect(dev.accepted.map((a) => [a.action, a.desired])).toEqual([
      ["install", { target: entry.targetPath, sha256: entry.sha256, length: entry.sizeBytes }],
      ["rollback", null],
    ]);
    expect(canary!.timeline).toHaveProperty("failed");
    // The later ring was never sent anything.
    for (const d of ds.filter((x) => x !== dev)) expect(d.accepted).toEqual([]);
    expect((await devicesOf(created.id, "&ring=1")).every((r) => r.state === "waiting")).toBe(true);
    expect(await t.db.prisma.auditLog.count({ where: { targetId: created.id, action: "rollout.gate_failed" } })).toBe(1);
  });

  it("request errors of the new model during the soak fail the error-rate gate: paused with the measured value, ring rolled back", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-errors", entry, ["cpu-only", "cpu-only"]);
    const created = await createRollout(entry.id, "g-errors", [ring("canary", 50, 2), ring("broad", 100)]);
    const [canary] = await waitFor(async () => {
      const rows = await devicesOf(created.id, "&ring=0&state=active");
      return rows.length === 1 ? rows : null;
    }, "canary active");
    const dev = ds.find((d) => d.id === canary!.deviceId)!;
    const m = metricsBody();
    await dev.sim.publish(dev.sim.report("metrics", { ...m, models: [{ ...m.models[0]!, modelId: entry.targetPath, sha256: entry.sha256, requests: 20, errors: 5 }], loads: [] }));
    const paused = await waitFor(async () => {
      const r = await rollout(created.id);
      return r.state === "paused" ? r : null;
    }, "rollout paused by the error-rate gate");
    expect(paused.rings[0]!.gates.find((g) => g.gate === "maxErrorRate")).toMatchObject({ value: 0.25, threshold: 0.05, pass: false });
    expect(paused.reason).toContain("request error rate 0.250 (5 of 20 requests) exceeds the maximum 0.050");
    await waitFor(() => dev.accepted.at(-1)?.action === "rollback", "canary rolled back");
  });

  it("an install failing with runtime_incompatible teaches the catalog that runtime cannot load the entry", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const [d] = await fleet("g-rt", entry, ["cpu-only"], () => ({ ok: false, code: "runtime_incompatible", reason: "unknown model architecture: 'llama9'" }));
    const runtime = { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu" as const] };
    await d!.sim.publish(d!.sim.report("inventory", { ...inventoryBody(), runtime }));
    await waitFor(async () => (await t.db.prisma.inventorySnapshot.count({ where: { deviceId: d!.id } })) === 1, "inventory stored");
    await createRollout(entry.id, "g-rt", [ring("all", 100)]);
    const learned = await waitFor(() => t.db.prisma.runtimeIncompatibility.findFirst({ where: { entryId: entry.id } }), "incompatibility learned");
    expect(learned).toMatchObject({ runtimeKey: "3.22.1/b6000/cpu", reason: "unknown model architecture: 'llama9'", deviceId: d!.id });
  });

  it("pause, resume and abort (which rolls back what was sent), each audited", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-pra", entry, ["cpu-only", "cpu-only", "cpu-only", "cpu-only"]);
    const created = await createRollout(entry.id, "g-pra", [ring("canary", 50, 3600), ring("broad", 100)]);
    await waitFor(async () => (await rollout(created.id)).rings[0]!.counts.active === 2, "canary ring active");

    expect((await action(created.id, "pause", "maintenance window")).status).toBe(200);
    expect((await rollout(created.id)).state).toBe("paused");
    const again = await action(created.id, "pause");
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("conflict");
    expect((await action(created.id, "resume", "window over")).status).toBe(200);
    expect((await rollout(created.id)).state).toBe("running");

    expect((await action(created.id, "abort", "bad feedback")).status).toBe(200);
    const aborted = await waitFor(async () => {
      const r = await rollout(created.id);
      return r.totals.rolled_back === 2 ? r : null;
    }, "the canary ring rolled back");
    expect(aborted).toMatchObject({ state: "aborted", reason: "aborted by admin: bad feedback" });
    const assigned = ds.filter((d) => d.accepted.length > 0);
    expect(assigned).toHaveLength(2);
    for (const d of assigned) expect(d.accepted.map((a) => a.action)).toEqual(["install", "rollback"]);
    expect((await action(created.id, "resume")).status).toBe(409);
    const audit = await t.db.prisma.auditLog.findMany({ where: { targetId: created.id }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["rollout.create", "rollout.pause", "rollout.resume", "rollout.abort"]);
  });

  it("rolls back one device, then the whole rollout, to each device's previous catalog model", async () => {
    const previous = await newCatalogEntry(t.db.prisma, { name: "prev" });
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-rb", entry, ["cpu-only", "gpu-full", "cpu-only"]);
    // Devices 0 and 1 serve the previous catalog model (heartbeat + installed file); device 2 something local.
    for (const d of ds.slice(0, 2)) {
      await d.sim.publish(d.sim.report("models", modelsBody([modelEntry(previous.targetPath, previous.sha256)])));
      const hb = heartbeatBody();
      await d.sim.publish(d.sim.report("heartbeat", { ...hb, runtime: { state: "ready", activeModel: previous.targetPath } }));
    }
    await waitFor(async () => (await t.db.prisma.heartbeat.count({ where: { deviceId: { in: [ds[0]!.id, ds[1]!.id] } } })) === 2, "heartbeats stored");
    const created = await createRollout(entry.id, "g-rb", [ring("all", 100, 3600)]);
    await waitFor(async () => (await rollout(created.id)).totals.active === 3, "all active");

    const one = await t.admin(`/api/v1/rollouts/${created.id}/devices/${ds[0]!.id}/rollback`, { method: "POST", body: JSON.stringify({ reason: "user complaint" }) });
    expect(one.status).toBe(200);
    await waitFor(async () => (await devicesOf(created.id, "&state=rolled_back")).length === 1, "one device rolled back");
    // A scheduler pass after the report: the hand-made rollback is not an install failure of the ring.
    const scheduler = t.server.app.get(RolloutScheduler);
    const acted = scheduler.stats.acted;
    scheduler.trigger();
    await waitFor(() => scheduler.stats.acted > acted, "a scheduler pass");
    expect((await devicesOf(created.id, "&state=active")).length).toBe(2);
    expect(ds[0]!.accepted.at(-1)).toMatchObject({ action: "rollback", desired: { target: previous.targetPath, sha256: previous.sha256, length: previous.sizeBytes } });
    expect((await rollout(created.id)).state).toBe("running");

    expect((await action(created.id, "rollback", "regression")).status).toBe(200);
    await waitFor(async () => (await rollout(created.id)).totals.rolled_back === 3, "all rolled back");
    expect((await rollout(created.id)).state).toBe("rolled_back");
    expect(ds[1]!.accepted.at(-1)).toMatchObject({ action: "rollback", desired: { target: previous.targetPath } });
    expect(ds[2]!.accepted.at(-1)).toMatchObject({ action: "rollback", desired: null });
    expect(await t.db.prisma.auditLog.count({ where: { action: "rollout.device.rollback", targetId: ds[0]!.id } })).toBe(1);
    // Unknown device in this rollout: 404.
    expect((await t.admin(`/api/v1/rollouts/${created.id}/devices/nope/rollback`, { method: "POST", body: JSON.stringify({ reason: "x" }) })).status).toBe(404);
  });

  it("revoking the entry aborts its open rollout and tells every device holding it (revokedSha256)", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-revoke", entry, ["cpu-only", "cpu-only"]);
    const created = await createRollout(entry.id, "g-revoke", [ring("all", 100, 3600)]);
    await waitFor(async () => (await rollout(created.id)).totals.active === 2, "all active");
    // The catalog's revoke transition calls this hook; the factory's entries carry no TUF facts, so the state is set here.
    await t.db.prisma.catalogEntry.update({ where: { id: entry.id }, data: { state: "revoked", stateReason: "license withdrawn" } });
    expect(await t.server.app.get(RevokedEntries).onEntryRevoked(entry.id, "admin")).toEqual({ rolloutsAborted: 1, devicesNotified: 2 });
    await waitFor(async () => (await rollout(created.id)).totals.rolled_back === 2, "devices rolled back");
    expect(await rollout(created.id)).toMatchObject({ state: "aborted", reason: `catalog entry ${entry.targetPath} was revoked: license withdrawn` });
    for (const d of ds) expect(d.accepted.at(-1)).toMatchObject({ action: "rollback", desired: null, revokedSha256: [entry.sha256] });
  });

  it.each(["draft", "deprecated", "revoked"] as const)("refuses a %s entry with 409 and the reason", async (state) => {
    const entry = await newCatalogEntry(t.db.prisma, { state, stateReason: `marked ${state} in review` });
    const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id }) });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: { code: "conflict", message: `catalog entry ${entry.targetPath} is ${state}: only an approved entry can be rolled out`, details: { state, reason: `marked ${state} in review` } },
    });
  });

  it("assignment versions only grow per device and a replayed older assignment is refused", async () => {
    const a = await newCatalogEntry(t.db.prisma);
    const b = await newCatalogEntry(t.db.prisma);
    const [d] = await fleet("g-ver", a, ["cpu-only"]);
    await setCompatibility(t.db.prisma, b.id, d!.id, "cpu-only");
    const first = await createRollout(a.id, "g-ver", [ring("all", 100)]);
    await waitFor(async () => (await rollout(first.id)).state === "completed", "first rollout completed");
    const oldJws = (await t.db.prisma.deviceAssignment.findUniqueOrThrow({ where: { deviceId: d!.id } })).jws;
    const second = await createRollout(b.id, "g-ver", [ring("all", 100)]);
    await waitFor(async () => (await rollout(second.id)).state === "completed", "second rollout completed");
    const versions = d!.accepted.map((x) => x.version);
    expect(versions).toEqual([1, 2]);
    const row = await t.db.prisma.deviceAssignment.findUniqueOrThrow({ where: { deviceId: d!.id } });
    expect(row.version).toBe(2n);
    // The old assignment put back in the bucket (a replay) is refused by the device.
    await t.server.app.get((await import("../assignments/assignment-kv.js")).AssignmentKv).putMany([{ deviceId: d!.id, jws: oldJws }]);
    await waitFor(() => d!.refused.length > 0, "replay refused");
    expect(d!.refused[0]!.reason).toBe("replayed");
    expect(d!.accepted).toHaveLength(2);
    expect(t.config.assignmentBucket).toBe(DEFAULT_ASSIGNMENT_BUCKET);
  });

  it("PUT labels validates the group and 404s an unknown device", async () => {
    const sim = await t.enrollDevice("labels-1");
    const bad = await t.admin(`/api/v1/devices/${sim.id}/labels`, { method: "PUT", body: JSON.stringify({ group: "../etc" }) });
    expect(bad.status).toBe(400);
    expect((await t.admin(`/api/v1/devices/nope/labels`, { method: "PUT", body: JSON.stringify({ group: "a" }) })).status).toBe(404);
    const ok = await t.admin(`/api/v1/devices/${sim.id}/labels`, { method: "PUT", body: JSON.stringify({ group: "lab-1", owner: "ops" }) });
    expect(await ok.json()).toEqual({ id: sim.id, labels: { group: "lab-1", owner: "ops" } });
    expect(await t.db.prisma.auditLog.count({ where: { action: "device.labels", targetId: sim.id } })).toBe(1);
  });
});
