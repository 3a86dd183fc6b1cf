import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "nats";
import { createPrismaClient, type PrismaClient } from "@fleet/db";
import { DEFAULT_TEST_DATABASE_URL } from "@fleet/db/testing";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { heartbeatBody, metricValue } from "../testing/fixtures.js";

// A real outage of this test's database: new connections refused and open ones killed, then restored.
let t: TestServer;
let admin: PrismaClient;
let dbName: string;

async function cutDatabase(): Promise<void> {
  await admin.$executeRawUnsafe(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
  await admin.$queryRawUnsafe(`SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbName);
}
async function restoreDatabase(): Promise<void> {
  await admin.$executeRawUnsafe(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
}

beforeAll(async () => {
  t = await startTestServer();
  dbName = decodeURIComponent(new URL(t.db.url).pathname.slice(1));
  admin = createPrismaClient(process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL);
});
afterAll(async () => {
  await restoreDatabase().catch(() => undefined);
  await admin?.$disconnect();
  await t?.close();
});

describe("outages", () => {
  it("a report that arrives while the database is down is redelivered and stored once it is back", async () => {
    const dev = await t.enrollDevice("ws-outage");
    const first = dev.report("heartbeat", heartbeatBody("1.0.0"));
    await dev.publish(first);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: first.msgId } }), "first report stored");

    await cutDatabase();
    try {
      const during = dev.report("heartbeat", heartbeatBody("2.0.0"));
      await dev.publish(during);
      await waitFor(async () => metricValue(await t.metrics(), "fleet_reports_retried_total") >= 1, "a nak while the database is down");
      const health = await fetch(`${t.url}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { checks: { database: { ok: boolean } } }).checks.database.ok).toBe(false);
    } finally {
      await restoreDatabase();
    }

    await waitFor(async () => (await t.db.prisma.device.findFirst({ where: { id: dev.id } }))?.agentVersion === "2.0.0", "report stored after the outage", 20_000);
    expect(await t.db.prisma.heartbeat.count({ where: { deviceId: dev.id } })).toBe(2);
    const m = await t.metrics();
    expect(metricValue(m, "fleet_reports_processed_total", { kind: "heartbeat" })).toBe(2);
    expect(metricValue(m, "fleet_reports_rejected_total", { reason: "store_failed" })).toBe(0);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);

    // and processing goes on normally
    const after = dev.report("heartbeat", heartbeatBody("3.0.0"));
    await dev.publish(after);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: after.msgId } }), "report after recovery stored");
  });

  it("keeps consuming after the NATS server restarts (stream and consumer are durable)", async () => {
    const dev = await t.enrollDevice("ws-nats-restart");
    await t.nats.stop();
    await t.nats.start();
    await waitFor(async () => (await fetch(`${t.url}/health`)).status === 200, "server reconnected to NATS", 20_000);
    const report = dev.report("heartbeat", heartbeatBody("4.0.0"));
    // the test's own client reconnects too; retry the publish until it is accepted
    await waitFor(async () => {
      await dev.publish(report);
      return true;
    }, "publish after restart", 20_000);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), "report stored after NATS restart", 30_000);
  });

  it("re-creates the durable consumer when it is deleted, and duplicates from the replay change nothing", async () => {
    const dev = await t.enrollDevice("ws-consumer-deleted");
    // with the server's NATS user: a device may not touch the JetStream API
    const admin = await connect(t.nats.connectOptions());
    await (await admin.jetstreamManager()).consumers.delete(t.config.stream, t.config.consumer);
    await admin.close();
    const report = dev.report("heartbeat", heartbeatBody("5.0.0"));
    await dev.publish(report);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), "report stored by the re-created consumer", 40_000);
    // the new consumer starts from the beginning of the stream: everything before is a duplicate
    await waitFor(async () => metricValue(await t.metrics(), "fleet_reports_duplicate_total") >= 3, "replayed reports counted as duplicates", 20_000);
    expect(await t.db.prisma.heartbeat.count({ where: { deviceId: dev.id } })).toBe(1);
  }, 90_000);
});

