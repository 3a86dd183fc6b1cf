import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZRolloutV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { WAVE_MIN_SHARE } from "@fleet/catalog";
import { IngestBacklog } from "../common/ingest-backlog.js";
import { newCatalogEntry, setCompatibility } from "../testing/catalog-factory.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

// A ring is sent its model in waves of ROLLOUT_ASSIGN_PER_SEC devices a second (real server, database and NATS):
// 35 devices at 10 a second are 4 waves over about 3 s, never more devices sent than the rate allows since the first;
// while report ingest is behind, the waves shrink to a tenth of the rate.
const RATE = 10;
const DEVICES = 35;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ ROLLOUT_ASSIGN_PER_SEC: String(RATE) }, { natsAuth: "none" });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** A rollout to a new group of `n` devices that never report, with one ring of them all; returns its id. */
async function rolloutTo(group: string, n: number): Promise<string> {
  const entry = await newCatalogEntry(t.db.prisma);
  const ids = Array.from({ length: n }, (_, i) => `${group}-${String(i).padStart(2, "0")}`);
  // devices written as enrollment leaves them; they never report, so the ring stays in progress once all are sent it
  await t.db.prisma.device.createMany({ data: ids.map((id) => ({ id, hostname: id, publicKeyJwk: {}, publicKeyThumbprint: `tp-${id}`, labels: { group } })) });
  for (const id of ids) await setCompatibility(t.db.prisma, entry.id, id, "cpu-only");
  const ring = { name: "all", percent: 100, soakSec: 0, gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 } };
  const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group, rings: [ring] }) });
  expect(res.status).toBe(201);
  return ZRolloutV1.parse(await res.json()).id;
}

/** When each device of the rollout was sent the model, in order. */
async function sentTimes(rolloutId: string): Promise<number[]> {
  const sent = await t.db.prisma.rolloutTransition.findMany({ where: { rolloutId, state: "pending" }, orderBy: { at: "asc" }, select: { at: true } });
  return sent.map((s) => s.at.getTime());
}

describe("rollout ring waves", () => {
  it("slows a ring's waves to the floor while report ingest is behind, and resumes the full rate once it caught up", async () => {
    // The report consumer tells the backlog how old each stored batch's oldest report was; here, 5 s old, again and
    // again, as a fleet whose ingest fell behind would (these devices never report, so nothing else is observed).
    const backlog = t.server.app.get(IngestBacklog);
    const behind = setInterval(() => backlog.observe(Date.now() - 5_000), 100);
    backlog.observe(Date.now() - 5_000);
    let rolloutId: string;
    try {
      rolloutId = await rolloutTo("g-slow", 20);
      await waitFor(async () => (await sentTimes(rolloutId)).length >= 3, "three devices sent the model while ingest is behind", 30_000);
    } finally {
      clearInterval(behind);
    }
    const caughtUpAt = Date.now();
    // at the floor, RATE x WAVE_MIN_SHARE = 1 device a second: the third a good 1.5 s after the first (not 10 at once)
    const slow = await sentTimes(rolloutId);
    expect(RATE * WAVE_MIN_SHARE).toBe(1);
    expect(slow[2]! - slow[0]!, JSON.stringify(slow)).toBeGreaterThanOrEqual(1_500);
    // caught up: once the last slow batch is older than the backlog's 3 s window, the rest go at 10 a second (at the
    // floor they would take 17 s more)
    await waitFor(async () => (await sentTimes(rolloutId)).length === 20, "every device sent the model once ingest caught up", 30_000);
    const all = await sentTimes(rolloutId);
    expect(all.at(-1)! - caughtUpAt, JSON.stringify(all)).toBeLessThan(3_000 + (20 / RATE) * 1000 + 3_000);
  }, 60_000);

  it("sends a ring's devices the model at most ROLLOUT_ASSIGN_PER_SEC a second, and holds the ring until all were sent it", async () => {
    const rolloutId = await rolloutTo("g-wave", DEVICES);

    await waitFor(async () => (await t.db.prisma.rolloutDevice.count({ where: { rolloutId, state: "pending" } })) === DEVICES, "every device of the ring sent the model", 30_000);
    const sent = await t.db.prisma.rolloutTransition.findMany({ where: { rolloutId, state: "pending" }, orderBy: { at: "asc" }, select: { deviceId: true, at: true } });
    expect(new Set(sent.map((s) => s.deviceId)).size).toBe(DEVICES);
    const byTime = new Map<number, string[]>();
    for (const s of sent) byTime.set(s.at.getTime(), [...(byTime.get(s.at.getTime()) ?? []), s.deviceId]);
    const waves = [...byTime.entries()];
    expect(waves[0]![1]).toHaveLength(RATE);
    expect(waves.length).toBeGreaterThanOrEqual(Math.ceil(DEVICES / RATE));
    const t0 = waves[0]![0];
    let cumulative = 0;
    for (const [at, wave] of waves) {
      cumulative += wave.length;
      // the rate's budget since the first wave (one second's worth up front); +1 for the clock read after the pass's
      expect(cumulative, `${cumulative} sent by ${at - t0} ms`).toBeLessThanOrEqual(RATE * ((at - t0) / 1000 + 1) + 1);
    }
    expect(waves.at(-1)![0] - t0).toBeGreaterThanOrEqual(((DEVICES - RATE) / RATE - 1) * 1000);

    // nothing was promoted or completed meanwhile: the ring waits for its devices
    const r = await t.db.prisma.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
    expect(r.state).toBe("running");
  }, 60_000);
});
