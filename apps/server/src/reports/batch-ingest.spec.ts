import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { generateSigningKeyPair, importPrivateJwk, subjects, type ReportKind, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { eventsBody, heartbeatBody, inventoryBody, metricValue, modelEntry, modelsBody } from "../testing/fixtures.js";
import { ReportsService, type IncomingMessage } from "./reports.service.js";

let t: TestServer;
let a: SimDevice;
let b: SimDevice;
let gone: SimDevice;
let reports: ReportsService;
let streamSeq = 1_000_000;
const log = pino({ level: "silent" });

beforeAll(async () => {
  t = await startTestServer();
  [a, b, gone] = await Promise.all([t.enrollDevice("ws-batch-a"), t.enrollDevice("ws-batch-b"), t.enrollDevice("ws-batch-gone")]);
  reports = t.server.app.get(ReportsService);
});
afterAll(async () => {
  await t?.close();
});

const enc = new TextEncoder();
async function msg(report: TReportV1, opts: { signer?: SimDevice; key?: Parameters<SimDevice["sign"]>[1]; onSubjectOf?: string } = {}): Promise<IncomingMessage> {
  const data = enc.encode(await (opts.signer ?? a).sign(report, opts.key));
  return { subject: subjects(t.config.subjectPrefix).report(opts.onSubjectOf ?? report.deviceId, report.kind as ReportKind), data, streamSeq: streamSeq++ };
}
const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await t.metrics(), name, labels);

describe("batched ingestion", () => {
  it("stores each good report of a mixed batch exactly once, in order per device, and refuses the rest with their reasons", async () => {
    const earlier = a.report("heartbeat", heartbeatBody("0.9.0"));
    expect((await reports.ingestBatch([await msg(earlier)], log))[0]).toMatchObject({ outcome: "stored" });
    expect(await t.admin(`/api/v1/devices/${gone.id}/revoke`, { method: "POST" }).then((r) => r.status)).toBe(200);

    const hb = a.report("heartbeat", heartbeatBody("1.0.0"));
    const inv = a.report("inventory", inventoryBody());
    const t0 = Date.now();
    // two models reports of one device in one batch: the later one is the device's truth
    const models1 = a.report("models", modelsBody([modelEntry("old.gguf"), modelEntry("kept.gguf")]), { sentAt: new Date(t0 - 1000).toISOString() });
    const models2 = a.report("models", modelsBody([modelEntry("kept.gguf"), modelEntry("new.gguf")]), { sentAt: new Date(t0).toISOString() });
    const hbB = b.report("heartbeat", heartbeatBody("2.0.0"));
    const other = await importPrivateJwk((await generateSigningKeyPair()).privateJwk);
    const batch = [
      await msg(hb),
      await msg(inv),
      await msg(models1),
      await msg(hb), // the same msgId again within the batch
      await msg(models2),
      await msg(hbB, { signer: b }),
      await msg(earlier), // stored by an earlier batch
      await msg(a.report("heartbeat", heartbeatBody()), { key: other }), // forged
      await msg(a.report("heartbeat", heartbeatBody()), { onSubjectOf: b.id }), // a's report on b's subject
      await msg(gone.report("heartbeat", heartbeatBody()), { signer: gone }), // revoked device
    ];
    const outcomes = await reports.ingestBatch(batch, log);
    expect(outcomes.map((o) => (o.outcome === "rejected" ? o.reason : o.outcome))).toEqual([
      "stored",
      "stored",
      "stored",
      "duplicate",
      "stored",
      "stored",
      "duplicate",
      "bad_signature",
      "device_mismatch",
      "unknown_device",
    ]);

    const ids = [earlier, hb, inv, models1, models2, hbB].map((r) => r.msgId);
    expect(await t.db.prisma.processedMessage.count({ where: { msgId: { in: ids } } })).toBe(ids.length);
    expect(await t.db.prisma.heartbeat.count({ where: { msgId: { in: [earlier.msgId, hb.msgId, hbB.msgId] } } })).toBe(3);
    const snap = await t.db.prisma.inventorySnapshot.findUnique({ where: { msgId: inv.msgId }, include: { gpus: true } });
    expect(snap?.gpus.map((g) => g.vendor).sort()).toEqual(["AMD", "NVIDIA"]);
    expect(Number(snap?.ramTotalBytes)).toBe(32 * 2 ** 30);
    const files = await t.db.prisma.installedModel.findMany({ where: { deviceId: a.id }, orderBy: { fileName: "asc" } });
    expect(files.map((f) => [f.fileName, f.removedAt?.toISOString() ?? null])).toEqual([
      ["kept.gguf", null],
      ["new.gguf", null],
      ["old.gguf", models2.sentAt],
    ]);
    expect(files.find((f) => f.fileName === "kept.gguf")?.firstSeenAt.toISOString()).toBe(models1.sentAt);
    // the version a heartbeat carries is on the device row with the report; lastSeq comes with the liveness flush
    expect((await t.db.prisma.device.findUniqueOrThrow({ where: { id: b.id } })).agentVersion).toBe("2.0.0");
    await waitFor(async () => (await t.db.prisma.deviceLiveness.findUnique({ where: { deviceId: a.id } }))?.lastSeq === BigInt(models2.seq), "lastSeq flushed");

    expect(await metric("fleet_reports_duplicate_total")).toBe(2);
    for (const reason of ["bad_signature", "device_mismatch", "unknown_device"]) expect(await metric("fleet_reports_rejected_total", { reason })).toBe(1);
    expect(await t.db.prisma.auditLog.count({ where: { action: "report.rejected" } })).toBe(3);
  });

  it("a burst over JetStream is stored once per report, acked after commit, nothing left pending", async () => {
    const burst = [...Array.from({ length: 40 }, () => a.report("heartbeat", heartbeatBody())), ...Array.from({ length: 40 }, () => b.report("heartbeat", heartbeatBody()))];
    // events have a one-report Prisma writer: they commit in their own lane beside the heartbeats
    const events = Array.from({ length: 5 }, () => a.report("events", eventsBody()));
    const before = await metric("fleet_reports_processed_total", { kind: "heartbeat" });
    const eventsBefore = await metric("fleet_reports_processed_total", { kind: "events" });
    await Promise.all([...burst, ...events].map((r) => (r.deviceId === a.id ? a : b).publish(r)));
    await waitFor(async () => (await metric("fleet_reports_processed_total", { kind: "heartbeat" })) === before + burst.length, "burst stored");
    await waitFor(async () => (await metric("fleet_reports_processed_total", { kind: "events" })) === eventsBefore + events.length, "events stored");
    expect(await t.db.prisma.heartbeat.count({ where: { msgId: { in: burst.map((r) => r.msgId) } } })).toBe(burst.length);
    expect(await t.db.prisma.deviceEvent.count({ where: { msgId: { in: events.map((r) => r.msgId) } } })).toBe(2 * events.length);
    const nc = await connect(t.nats.connectOptions());
    try {
      const jsm = await nc.jetstreamManager();
      await waitFor(async () => (await jsm.consumers.info(t.config.stream, t.config.consumer)).num_ack_pending === 0, "all acked");
    } finally {
      await nc.close();
    }
  });
});
