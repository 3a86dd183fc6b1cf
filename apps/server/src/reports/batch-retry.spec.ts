import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, subjects, type ReportKind, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { heartbeatBody, metricValue } from "../testing/fixtures.js";
import { ReportConsumer } from "./report.consumer.js";

const POISON_VERSION = "9.9.9-poison";

let t: TestServer;
let a: SimDevice;

beforeAll(async () => {
  t = await startTestServer();
  a = await t.enrollDevice("ws-retry-a");
  // A heartbeat the database refuses while it is up (a real constraint failure, not a mock): its batch's commit
  // fails and the consumer retries that batch one message at a time.
  await t.db.prisma.$executeRawUnsafe(`
    CREATE FUNCTION fleet_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'poisoned heartbeat for the retry test'; END $$`);
  await t.db.prisma.$executeRawUnsafe(`
    CREATE TRIGGER fleet_test_poison BEFORE INSERT ON "Heartbeat"
    FOR EACH ROW WHEN (NEW."agentVersion" = '${POISON_VERSION}') EXECUTE FUNCTION fleet_test_poison()`);
});
afterAll(async () => {
  await t?.close();
});

const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await t.metrics(), name, labels);

describe("a batch whose commit fails with the database up", () => {
  it("terms the reports its verification rejected once (one audit row, counted once) and retries only the accepted ones", async () => {
    const other = await importPrivateJwk((await generateSigningKeyPair()).privateJwk);
    const good1 = a.report("heartbeat", heartbeatBody("1.0.0"));
    const poison = a.report("heartbeat", heartbeatBody(POISON_VERSION));
    const good2 = a.report("heartbeat", heartbeatBody("1.0.1"));
    const forged = a.report("heartbeat", heartbeatBody("1.0.2"));
    const signed: [TReportV1, string][] = [
      [good1, await a.sign(good1)],
      [forged, await a.sign(forged, other)],
      [poison, await a.sign(poison)],
      [good2, await a.sign(good2)],
    ];

    // All four in one batch, deterministically: the consumer is stopped while they are stored in JetStream, then
    // started again, and its first pull brings the four at once.
    const consumer = t.server.app.get(ReportConsumer);
    await consumer.onModuleDestroy();
    const nc = await connect(t.nats.connectOptions());
    try {
      const js = nc.jetstream();
      for (const [r, jws] of signed) await js.publish(subjects(t.config.subjectPrefix).report(r.deviceId, r.kind as ReportKind), new TextEncoder().encode(jws));
      (consumer as unknown as { stopping: boolean }).stopping = false;
      consumer.onApplicationBootstrap();

      // the poison fails alone on every redelivery and is given up after MAX_FAILURES_WITH_DB_UP (5) deliveries
      await waitFor(async () => (await metric("fleet_reports_rejected_total", { reason: "store_failed" })) === 1, "the poisoned report given up", 60_000);
      const jsm = await nc.jetstreamManager();
      await waitFor(async () => (await jsm.consumers.info(t.config.stream, t.config.consumer)).num_ack_pending === 0, "every message settled", 30_000);
    } finally {
      await nc.close();
    }

    expect(await t.db.prisma.heartbeat.count({ where: { msgId: { in: [good1.msgId, good2.msgId] } } })).toBe(2);
    expect(await t.db.prisma.heartbeat.count({ where: { msgId: { in: [poison.msgId, forged.msgId] } } })).toBe(0);
    // the forged report was rejected during verification of the failed batch: not verified, audited or counted again
    expect(await metric("fleet_reports_rejected_total", { reason: "bad_signature" })).toBe(1);
    expect(await t.db.prisma.auditLog.count({ where: { action: "report.rejected" } })).toBe(1);
    // the batch was retried with the database up (the poison naked for redelivery), not just stored in parts
    expect(await metric("fleet_reports_retried_total")).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
