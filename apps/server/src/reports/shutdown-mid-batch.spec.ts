import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../app.js";
import { holdConnection, type HeldConnection } from "../testing/held-connection.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { heartbeatBody } from "../testing/fixtures.js";

// A server asked to stop while a batch hangs in the database (here: waiting for a row lock another session holds)
// stops cleanly within its shutdown bounds rather than after the ingest statement timeout (30 s), and the hung batch,
// never acked, is stored once by the next server.
let t: TestServer;
let dev: SimDevice;
/** its transaction keeps the device's row locked */
let locker: HeldConnection;
let next: FleetServer | null = null;

beforeAll(async () => {
  t = await startTestServer();
  dev = await t.enrollDevice("ws-shutdown");
  locker = await holdConnection(t.db.url);
});
afterAll(async () => {
  await locker?.close();
  await next?.close();
  await t?.close();
});

describe("shutdown while a batch is stuck in the database", () => {
  it("stops within its bounds, and the batch is redelivered and stored once by the next server", async () => {
    const first = dev.report("heartbeat", heartbeatBody("1.0.0"));
    await dev.publish(first);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: first.msgId } }), "first report stored");

    // a revocation-style lock: the ingest's key-share lock on the device waits for it
    await locker.query("BEGIN");
    await locker.query(`SELECT id FROM "Device" WHERE id = $1 FOR UPDATE`, [dev.id]);
    const stuck = dev.report("heartbeat", heartbeatBody("2.0.0"));
    await dev.publish(stuck);
    await waitFor(
      // read outside the locker's transaction, which would see one snapshot of pg_stat_activity throughout
      async () => (await t.db.prisma.$queryRaw<unknown[]>`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR KEY SHARE%'`).length === 1,
      "the batch waits for the device's row lock",
    );

    // every shutdown step within its bound (close() rejects naming a step that was not): the application's step
    // (12 s) covers the consumer's wait for the batch (3 s) and the ingest pool's close (3 s), where waiting for the
    // batch's connection would take up to its statement timeout (30 s)
    await expect(t.server.close()).resolves.toBeUndefined();
    expect(await t.db.prisma.processedMessage.findUnique({ where: { msgId: stuck.msgId } })).toBeNull();

    await locker.query("ROLLBACK");
    next = await createServer(t.config, { prisma: t.db.prisma });
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: stuck.msgId } }), "the stuck report stored by the next server", 20_000);
    expect(await t.db.prisma.heartbeat.count({ where: { deviceId: dev.id } })).toBe(2);
    expect((await t.db.prisma.device.findUniqueOrThrow({ where: { id: dev.id } })).agentVersion).toBe("2.0.0");
  });
});
