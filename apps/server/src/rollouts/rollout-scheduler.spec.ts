import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZRolloutV1, type TRingSpecV1, type TRolloutV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../app.js";
import { newCatalogEntry, setCompatibility } from "../testing/catalog-factory.js";
import { RolloutDevice } from "../testing/rollout-device.js";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../testing/test-server.js";
import { RolloutScheduler } from "./rollout.scheduler.js";
import { ROLLOUT_LOCK } from "./rollouts.repository.js";

// Several server processes on one database: the advisory lock lets exactly one scheduler act, and since a
// rollout's state lives in the database, a server started after the others stopped carries it on.

let t: TestServer;
let second: FleetServer;
const extra: FleetServer[] = [];
beforeAll(async () => {
  t = await startTestServer();
  second = await createServer(t.config);
  extra.push(second);
});
afterAll(async () => {
  for (const s of extra) await s.close().catch(() => undefined);
  await t?.close();
});

const ring = (name: string, percent: number, soakSec = 0): TRingSpecV1 => ({
  name,
  percent,
  soakSec,
  gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 },
});

async function get(url: string, id: string): Promise<TRolloutV1> {
  const res = await fetch(`${url}/api/v1/rollouts/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return ZRolloutV1.parse(await res.json());
}

async function fleet(group: string, entryId: string, n: number): Promise<RolloutDevice[]> {
  const out: RolloutDevice[] = [];
  for (let i = 0; i < n; i++) {
    const sim = await t.enrollDevice(`${group}-${i}`);
    expect((await t.admin(`/api/v1/devices/${sim.id}/labels`, { method: "PUT", body: JSON.stringify({ group }) })).status).toBe(200);
    await setCompatibility(t.db.prisma, entryId, sim.id, "cpu-only");
    const d = await RolloutDevice.attach(sim);
    await d.start();
    out.push(d);
  }
  return out;
}

describe("rollout scheduler across server processes", () => {
  it("acts only while it holds the advisory lock, and never assigns a device twice with two servers running", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-lock", entry.id, 4);
    const schedulers = [t.server.app.get(RolloutScheduler), second.app.get(RolloutScheduler)];
    let id = "";
    // Someone else (here: the test) holds the scheduler lock: neither server may act on the new rollout.
    await t.db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLOUT_LOCK})`;
        const skipped = schedulers.map((s) => s.stats.skipped);
        const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "g-lock", rings: [ring("canary", 25), ring("broad", 100)] }) });
        expect(res.status).toBe(201);
        id = ZRolloutV1.parse(await res.json()).id;
        await waitFor(() => schedulers.every((s, i) => s.stats.skipped > skipped[i]!), "both schedulers found the lock taken", 15_000);
        const r = await get(t.url, id);
        expect(r.totals.waiting).toBe(4);
        expect(ds.every((d) => d.accepted.length === 0)).toBe(true);
      },
      { timeout: 30_000 },
    );
    await waitFor(async () => (await get(second.url, id)).state === "completed", "rollout completed once the lock is free", 90_000);
    expect(schedulers.some((s) => s.stats.acted > 0)).toBe(true);
    // Both servers ran passes concurrently, yet each device got exactly one assignment (version 1).
    const versions = await t.db.prisma.deviceAssignment.findMany({ where: { deviceId: { in: ds.map((d) => d.id) } }, select: { version: true } });
    expect(versions.map((v) => v.version)).toEqual([1n, 1n, 1n, 1n]);
    for (const d of ds) expect(d.accepted.map((a) => a.version)).toEqual([1]);
  }, 150_000); // waits below allow a loaded CI machine 90 s for the rollout to finish

  it("a server started after every server stopped mid-rollout resumes the rollout from the database", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ds = await fleet("g-restart", entry.id, 4);
    const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "g-restart", rings: [ring("canary", 50, 2), ring("broad", 100)] }) });
    const id = ZRolloutV1.parse(await res.json()).id;
    await waitFor(async () => (await get(t.url, id)).rings[0]!.counts.active === 2, "canary ring active", 30_000);
    await t.server.close();
    await second.close();
    const stopped = await t.db.prisma.rollout.findUniqueOrThrow({ where: { id } });
    expect(stopped).toMatchObject({ state: "running", currentRing: 0 });

    const restarted = await createServer(t.config);
    extra.push(restarted);
    await waitFor(async () => (await get(restarted.url, id)).state === "completed", "rollout completed after the restart", 90_000);
    const done = await get(restarted.url, id);
    expect(done.totals.active).toBe(4);
    expect(ds.every((d) => d.accepted.length === 1 && d.accepted[0]!.action === "install")).toBe(true);
  }, 150_000); // waits below allow a loaded CI machine 90 s for the rollout to finish
});
