import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_ACTIVE_DEVICES } from "../reports/reports.repository.js";
import { holdConnection, type HeldConnection } from "../testing/held-connection.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { DevicesRepository } from "./devices.repository.js";
import { LivenessRepository } from "./liveness.repository.js";

// The lock an ingest transaction holds on its batch's devices until it commits, against the two writers of Device
// rows that run beside ingest: the liveness flush must not wait for it (it did with a share lock: hundreds of ms per
// batch under load), a revocation must (a batch that read the device as active commits before the device is revoked).
let t: TestServer;
/** a connection of its own, as an ingest transaction holds one */
let batch: HeldConnection;

beforeAll(async () => {
  t = await startTestServer();
  batch = await holdConnection(t.db.url);
});
afterAll(async () => {
  await batch?.close();
  await t?.close();
});

/** Whether `p` settles within `ms` (it is still awaited by the caller either way). */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

describe("Device row locks of report ingest", () => {
  it("a liveness flush goes past an ingest transaction's lock; a revocation waits for its commit", async () => {
    const dev = await t.enrollDevice("ws-locks");
    await batch.query("BEGIN");
    const locked = await batch.query<{ id: string }>(LOCK_ACTIVE_DEVICES, [[dev.id]]);
    expect(locked.rows.map((r) => r.id)).toEqual([dev.id]);

    const seenAt = new Date();
    await t.server.app.get(LivenessRepository).recordSeen([{ id: dev.id, lastSeenAt: seenAt, lastSeq: 7 }]);
    const row = await t.db.prisma.deviceLiveness.findUniqueOrThrow({ where: { deviceId: dev.id } });
    expect(row.lastSeenAt.getTime()).toBe(seenAt.getTime());
    expect(row.lastSeq).toBe(7n);

    const revoking = t.server.app.get(DevicesRepository).revoke(dev.id, "test");
    // held back by the open transaction (2 s is far beyond a revocation's own time, even on a loaded machine)
    expect(await settlesWithin(revoking, 2_000)).toBe(false);
    expect((await t.db.prisma.device.findUniqueOrThrow({ where: { id: dev.id } })).state).toBe("active");
    await batch.query("COMMIT");
    expect(await revoking).toBe(true);
    expect((await t.db.prisma.device.findUniqueOrThrow({ where: { id: dev.id } })).state).toBe("revoked");

    // a batch that starts after the revocation no longer finds the device active
    await batch.query("BEGIN");
    expect((await batch.query(LOCK_ACTIVE_DEVICES, [[dev.id]])).rows).toEqual([]);
    await batch.query("COMMIT");
  });

  it("a liveness flush never moves a device back in time and skips devices no longer active or unknown", async () => {
    const a = await t.enrollDevice("ws-live-a");
    const b = await t.enrollDevice("ws-live-b");
    const liveness = t.server.app.get(LivenessRepository);
    const at = (ms: number) => new Date(Date.UTC(2026, 10, 29, 9, 0, 0) + ms);
    await liveness.recordSeen([
      { id: a.id, lastSeenAt: at(5_000), lastSeq: 9 },
      { id: b.id, lastSeenAt: at(0), lastSeq: 1 },
    ]);
    // an older flush (another replica's, or a retried one) arrives late: a keeps its newer values, b moves on
    await liveness.recordSeen([
      { id: a.id, lastSeenAt: at(1_000), lastSeq: 3 },
      { id: b.id, lastSeenAt: at(2_000), lastSeq: 2 },
    ]);
    const rows = async () =>
      (await t.db.prisma.deviceLiveness.findMany({ where: { deviceId: { in: [a.id, b.id] } }, orderBy: { deviceId: "asc" } })).map((r) => [r.deviceId, r.lastSeenAt.getTime(), r.lastSeq]);
    const expected = [
      [a.id, at(5_000).getTime(), 9n],
      [b.id, at(2_000).getTime(), 2n],
    ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1));
    expect(await rows()).toEqual(expected);

    // b is revoked and a device id that does not exist is marked: the flush still writes a, and nothing for them
    expect(await t.server.app.get(DevicesRepository).revoke(b.id, "test")).toBe(true);
    await liveness.recordSeen([
      { id: a.id, lastSeenAt: at(6_000), lastSeq: 10 },
      { id: b.id, lastSeenAt: at(9_000), lastSeq: 9 },
      { id: "dev_no_such_device", lastSeenAt: at(9_000), lastSeq: 1 },
    ]);
    expect(await rows()).toEqual(expected.map((r) => (r[0] === a.id ? [a.id, at(6_000).getTime(), 10n] : r)));
    expect(await t.db.prisma.deviceLiveness.count({ where: { deviceId: "dev_no_such_device" } })).toBe(0);
  });
});
