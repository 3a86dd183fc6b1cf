import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompactSign, type CryptoKey } from "jose";
import { generateSigningKeyPair, importPrivateJwk, REPORT_JWS_TYP, subjects, ZDeviceDetailV1, type ReportKind, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { eventsBody, heartbeatBody, inventoryBody, metricValue, metricsBody, modelEntry, modelsBody, postureBody, TINY_SHA } from "../testing/fixtures.js";

let t: TestServer;
let a: SimDevice;
let b: SimDevice;
let serverNc: NatsConnection;

beforeAll(async () => {
  t = await startTestServer();
  [a, b] = await Promise.all([t.enrollDevice("ws-a"), t.enrollDevice("ws-b")]);
  serverNc = await connect(t.nats.connectOptions());
});
afterAll(async () => {
  await serverNc?.close();
  await t?.close();
});

/**
 * Publish on a report subject as the server's NATS user. NATS with per-device identity refuses a device publishing on
 * another device's subject, or a revoked device (device-permissions.spec); such messages can still reach the stream on
 * a NATS without auth, or published earlier, and the server must refuse them itself.
 */
async function publishAsAnyone(kind: ReportKind, data: string, deviceId: string) {
  await serverNc.jetstream().publish(subjects(t.config.subjectPrefix).report(deviceId, kind), new TextEncoder().encode(data));
}

const processed = async (kind: string) => metricValue(await t.metrics(), "fleet_reports_processed_total", { kind });
const rejected = async (reason: string) => metricValue(await t.metrics(), "fleet_reports_rejected_total", { reason });
const detail = async (id: string) => ZDeviceDetailV1.parse(await (await t.admin(`/api/v1/devices/${id}`)).json());

/** Publish, then wait until the server has stored it (by msgId). */
async function publishAndWait(dev: SimDevice, report: TReportV1) {
  await dev.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `report ${report.kind} ${report.msgId} stored`);
}

/** A report signed with `key` and header kid `kid`, whatever the payload says. */
async function signRaw(report: TReportV1, key: CryptoKey, kid: string) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(report))).setProtectedHeader({ alg: "EdDSA", kid, typ: REPORT_JWS_TYP }).sign(key);
}

describe("report ingestion", () => {
  it("stores an inventory with its GPUs as history, and the device summary shows it", async () => {
    const first = a.report("inventory", inventoryBody({ ramFreeBytes: 1000 }));
    await publishAndWait(a, first);
    const second = a.report("inventory", inventoryBody({ ramFreeBytes: 2000, gpus: [inventoryBody().gpus[0]!] }));
    await publishAndWait(a, second);

    const snaps = await t.db.prisma.inventorySnapshot.findMany({ where: { deviceId: a.id }, include: { gpus: true }, orderBy: { receivedAt: "asc" } });
    expect(snaps.map((s) => Number(s.ramFreeBytes))).toEqual([1000, 2000]);
    expect(snaps[0]!.gpus.map((g) => g.vendor).sort()).toEqual(["AMD", "NVIDIA"]);
    expect(snaps[1]!.gpus).toHaveLength(1);
    expect(snaps[0]!.cpuBrand).toBe("Ryzen 7 7840U");

    const d = await detail(a.id);
    expect(d.device.gpus).toEqual([{ vendor: "NVIDIA", model: "RTX 4070 Laptop", vramBytes: 8 * 2 ** 30 }]);
    expect(d.device.ramTotalBytes).toBe(32 * 2 ** 30);
    expect(d.device.os).toBe("Ubuntu 24.04");
    expect(d.inventory?.inventory.memory.availableBytes).toBe(2000);
    expect(d.inventoryHistory.map((h) => h.ramFreeBytes)).toEqual([2000, 1000]);
    expect(await processed("inventory")).toBe(2);
    // both went through the ingest latency histogram (sentAt -> stored), under their kind
    expect(metricValue(await t.metrics(), "fleet_report_ingest_latency_seconds_count", { kind: "inventory" })).toBe(2);

    const hist = (await (await t.admin(`/api/v1/devices/${a.id}/inventory?limit=1`)).json()) as { items: { inventory: { memory: { availableBytes: number } } }[] };
    expect(hist.items).toHaveLength(1);
    expect(hist.items[0]!.inventory.memory.availableBytes).toBe(2000);
  });

  it("keeps installed models current: upsert by path, removedAt when gone, cleared when back", async () => {
    await publishAndWait(a, a.report("models", modelsBody([modelEntry("tiny.gguf"), modelEntry("other.gguf", "a".repeat(64))])));
    let rows = await t.db.prisma.installedModel.findMany({ where: { deviceId: a.id }, orderBy: { fileName: "asc" } });
    expect(rows.map((r) => [r.fileName, r.sha256, r.architecture, r.removedAt])).toEqual([
      ["other.gguf", "a".repeat(64), "llama", null],
      ["tiny.gguf", TINY_SHA, "llama", null],
    ]);

    await publishAndWait(a, a.report("models", modelsBody([modelEntry("tiny.gguf")])));
    rows = await t.db.prisma.installedModel.findMany({ where: { deviceId: a.id }, orderBy: { fileName: "asc" } });
    expect(rows[0]!.removedAt).not.toBeNull();
    expect(rows[1]!.removedAt).toBeNull();
    let d = await detail(a.id);
    expect(d.models.map((m) => m.fileName)).toEqual(["tiny.gguf"]);
    expect(d.models[0]!.gguf?.quantization).toBe("F16");

    await publishAndWait(a, a.report("models", modelsBody([modelEntry("tiny.gguf"), modelEntry("other.gguf", "a".repeat(64))])));
    rows = await t.db.prisma.installedModel.findMany({ where: { deviceId: a.id } });
    expect(rows.every((r) => r.removedAt === null)).toBe(true);
    expect(rows).toHaveLength(2);
    d = await detail(a.id);
    expect(d.device.models.map((m) => m.sha256).sort()).toEqual([TINY_SHA, "a".repeat(64)]);
  });

  it("a burst of one device's models reports ends in the state of the last one", async () => {
    const dev = await t.enrollDevice("ws-burst");
    const sets = [["m1.gguf", "m2.gguf"], ["m2.gguf"], ["m3.gguf", "m1.gguf"], ["m3.gguf"]];
    const reports = sets.map((names) => dev.report("models", modelsBody(names.map((n) => modelEntry(n)))));
    // signed first, published back to back: nothing waits between them
    const signed = await Promise.all(reports.map((r) => dev.sign(r)));
    for (const jws of signed) await dev.publishRaw("models", jws);
    await waitFor(async () => (await t.db.prisma.processedMessage.count({ where: { deviceId: dev.id } })) === reports.length, "burst processed");
    const current = await t.db.prisma.installedModel.findMany({ where: { deviceId: dev.id, removedAt: null } });
    expect(current.map((m) => m.fileName)).toEqual(["m3.gguf"]);
  });

  it("a heartbeat makes the device online and records agent version and runtime state", async () => {
    expect((await detail(b.id)).device.status).toBe("never_seen");
    await publishAndWait(b, b.report("heartbeat", heartbeatBody("0.3.1")));
    const d = await detail(b.id);
    expect(d.device.status).toBe("online");
    expect(d.device.agentVersion).toBe("0.3.1");
    expect(d.heartbeat).toMatchObject({ queueDepth: 3, runtimeState: "ready", activeModel: "tiny" });
    const hb = await t.db.prisma.heartbeat.findFirstOrThrow({ where: { deviceId: b.id } });
    expect(Number(hb.rssBytes)).toBe(123_456_789);
  });

  it("stores posture, events and runtime metrics", async () => {
    await publishAndWait(b, b.report("posture", postureBody()));
    await publishAndWait(b, b.report("events", eventsBody()));
    await publishAndWait(b, b.report("metrics", metricsBody()));
    const d = await detail(b.id);
    expect(d.posture?.posture.telemetry).toBe("metrics-only");
    const events = await t.db.prisma.deviceEvent.findMany({ where: { deviceId: b.id }, orderBy: { idx: "asc" } });
    expect(events.map((e) => e.kind)).toEqual(["model.load.ok", "model.load.failed"]);
    expect(events[1]!.data).toEqual({ requiredBytes: 123 });
    const rm = (await (await t.admin(`/api/v1/devices/${b.id}/runtime-metrics`)).json()) as { items: { stats: { ttftMs: unknown; requests: number } }[]; loads: { loadMs: number; peakRssBytes: number }[] };
    expect(rm.items).toHaveLength(1);
    expect(rm.items[0]!.stats).toMatchObject({ requests: 10, ttftMs: { p50: 40, p95: 90 } });
    expect(rm.loads[0]).toMatchObject({ loadMs: 120, peakRssBytes: 300_000_000 });
  });

  it("a duplicate msgId changes nothing and is counted", async () => {
    const report = a.report("heartbeat", heartbeatBody("9.9.9"));
    const jws = await a.sign(report);
    await a.publishRaw("heartbeat", jws);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), "first copy");
    const before = await t.db.prisma.heartbeat.count({ where: { deviceId: a.id } });
    const dupBefore = metricValue(await t.metrics(), "fleet_reports_duplicate_total");
    await a.publishRaw("heartbeat", jws);
    await waitFor(async () => metricValue(await t.metrics(), "fleet_reports_duplicate_total") === dupBefore + 1, "duplicate counted");
    expect(await t.db.prisma.heartbeat.count({ where: { deviceId: a.id } })).toBe(before);
  });

  it("rejects unsigned, forged, wrong-device, malformed and oversized reports, counts them, and keeps processing", async () => {
    const other = await generateSigningKeyPair();
    const otherKey = await importPrivateJwk(other.privateJwk);
    const hb = () => a.report("heartbeat", heartbeatBody());

    // unsigned: the JSON report itself
    await a.publishRaw("heartbeat", JSON.stringify(hb()));
    // forged: a's device id, someone else's key
    await a.publishRaw("heartbeat", await a.sign(hb(), otherKey));
    // wrong device: a's key and kid, on b's subject
    await publishAsAnyone("heartbeat", await a.sign(hb()), b.id);
    // payload names b but the JWS is a's (kid a, a's key) on a's subject
    await a.publishRaw("heartbeat", await signRaw({ ...hb(), deviceId: b.id } as TReportV1, a.privateKey, a.id));
    // malformed
    await a.publishRaw("heartbeat", "this is not a report");
    // oversized: above MAX_REPORT_BYTES (512 KiB), below NATS' 1 MiB
    await a.publishRaw("heartbeat", "x".repeat(600 * 1024));
    // schema-invalid but properly signed
    await a.publishRaw("heartbeat", await a.sign({ ...hb(), body: { agentVersion: 1 } } as unknown as TReportV1));
    // unknown device: a valid signature from a key nobody enrolled, on its own subject
    await publishAsAnyone("heartbeat", await signRaw({ ...hb(), deviceId: "dev_nobody" } as TReportV1, otherKey, "dev_nobody"), "dev_nobody");
    // replayed: older than REPORT_MAX_AGE_DAYS
    await a.publish(a.report("heartbeat", heartbeatBody(), { sentAt: new Date(Date.now() - 31 * 86_400_000).toISOString() }));

    // a later good message is still processed
    const good = a.report("heartbeat", heartbeatBody("1.2.3"));
    await publishAndWait(a, good);

    await waitFor(async () => (await rejected("replayed")) === 1, "all rejections counted");
    expect(await rejected("unsigned")).toBe(1);
    expect(await rejected("bad_signature")).toBe(1);
    expect(await rejected("device_mismatch")).toBe(2);
    expect(await rejected("malformed")).toBe(1);
    expect(await rejected("oversized")).toBe(1);
    expect(await rejected("schema_invalid")).toBe(1);
    expect(await rejected("unknown_device")).toBe(1);

    const audit = await t.db.prisma.auditLog.findMany({ where: { action: "report.rejected" } });
    expect(audit).toHaveLength(9);
    expect(audit.map((r) => (r.details as { reason: string }).reason).sort()).toEqual(
      ["bad_signature", "device_mismatch", "device_mismatch", "malformed", "oversized", "replayed", "schema_invalid", "unknown_device", "unsigned"],
    );
    // nothing from the bad messages was stored, and none of them is waiting for redelivery
    expect(await t.db.prisma.heartbeat.count({ where: { deviceId: b.id, agentVersion: "0.2.0" } })).toBe(0);
    const info = await (await serverNc.jetstreamManager()).consumers.info(t.config.stream, t.config.consumer);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect((await detail(a.id)).device.agentVersion).toBe("1.2.3");
  });

  it("after revoke, the device's reports are rejected as unknown_device", async () => {
    const c = await t.enrollDevice("ws-revoked");
    await publishAndWait(c, c.report("heartbeat", heartbeatBody()));
    const res = await t.admin(`/api/v1/devices/${c.id}/revoke`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: c.id, status: "revoked" });
    const before = await rejected("unknown_device");
    const late = c.report("heartbeat", heartbeatBody());
    await publishAsAnyone("heartbeat", await c.sign(late), c.id);
    await waitFor(async () => (await rejected("unknown_device")) === before + 1, "revoked report rejected");
    expect(await t.db.prisma.processedMessage.findUnique({ where: { msgId: late.msgId } })).toBeNull();
    expect((await detail(c.id)).device.status).toBe("revoked");
    const audit = await t.db.prisma.auditLog.findFirst({ where: { action: "device.revoked", targetId: c.id } });
    expect(audit).not.toBeNull();
  });

  it("unknown device ids give 404 with an error body", async () => {
    const res = await t.admin(`/api/v1/devices/dev_${randomUUID().slice(0, 8)}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await t.admin(`/api/v1/devices/nope/revoke`, { method: "POST" })).status).toBe(404);
    expect((await t.admin(`/api/v1/devices/nope/inventory`)).status).toBe(404);
    expect((await t.admin(`/api/v1/devices/nope/runtime-metrics`)).status).toBe(404);
  });
});
