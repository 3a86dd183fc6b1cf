import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZRolloutV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { newCatalogEntry, setCompatibility } from "../testing/catalog-factory.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

// A ring is sent its model in waves of ROLLOUT_ASSIGN_PER_SEC devices a second (real server, database and NATS):
// 35 devices at 10 a second are 4 waves over about 3 s, never more devices sent than the rate allows since the first.
const RATE = 10;
const DEVICES = 35;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ ROLLOUT_ASSIGN_PER_SEC: String(RATE) }, { natsAuth: "none" });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe("rollout ring waves", () => {
  it("sends a ring's devices the model at most ROLLOUT_ASSIGN_PER_SEC a second, and holds the ring until all were sent it", async () => {
    const entry = await newCatalogEntry(t.db.prisma);
    const ids = Array.from({ length: DEVICES }, (_, i) => `wave-${String(i).padStart(2, "0")}`);
    // devices written as enrollment leaves them; they never report, so the ring stays in progress once all are sent it
    await t.db.prisma.device.createMany({ data: ids.map((id) => ({ id, hostname: id, publicKeyJwk: {}, publicKeyThumbprint: `tp-${id}`, labels: { group: "g-wave" } })) });
    for (const id of ids) await setCompatibility(t.db.prisma, entry.id, id, "cpu-only");

    const ring = { name: "all", percent: 100, soakSec: 0, gates: { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 } };
    const res = await t.admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: entry.id, group: "g-wave", rings: [ring] }) });
    expect(res.status).toBe(201);
    const { id: rolloutId } = ZRolloutV1.parse(await res.json());

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
