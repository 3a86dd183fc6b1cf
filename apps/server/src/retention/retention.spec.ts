import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { metricValue, heartbeatBody } from "../testing/fixtures.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { LEDGER_MARGIN_DAYS, RetentionService } from "./retention.service.js";

// Rows are inserted straight into PostgreSQL at chosen timestamps (as if received long ago), then pruned
// by the real service. Batch size 2 forces several DELETE batches per table.
let t: TestServer;
let retention: RetentionService;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

beforeAll(async () => {
  t = await startTestServer({ RETENTION_BATCH_SIZE: "2", REPORT_MAX_AGE_DAYS: "30", HEARTBEAT_RETENTION_DAYS: "7", INVENTORY_RETENTION_DAYS: "90", EVENT_RETENTION_DAYS: "90" });
  retention = t.server.app.get(RetentionService);
});
afterAll(async () => t?.close());

const db = () => t.db.prisma;
const deletedMetric = async (table: string) => metricValue(await t.metrics(), "fleet_retention_deleted_total", { table });

async function heartbeat(deviceId: string, receivedAt: Date) {
  const row = await db().heartbeat.create({
    data: { deviceId, msgId: randomUUID(), sentAt: receivedAt, receivedAt, agentVersion: "0.1.0", uptimeSec: 1, queueDepth: 0, runtimeState: "idle", rssBytes: 1n },
  });
  return row.id;
}
async function snapshot(deviceId: string, receivedAt: Date) {
  const row = await db().inventorySnapshot.create({
    data: {
      deviceId, msgId: randomUUID(), collectedAt: receivedAt, receivedAt, cpuBrand: "Ryzen", cpuCores: 8, ramTotalBytes: 1n, ramFreeBytes: 1n,
      osName: "Ubuntu", modelsDirFreeBytes: 1n, hasBattery: false, data: {},
      gpus: { create: [{ deviceId, index: 0, vendor: "NVIDIA", model: "RTX", vramBytes: 1n }] },
    },
  });
  return row.id;
}
async function event(deviceId: string, receivedAt: Date, at = receivedAt) {
  const row = await db().deviceEvent.create({ data: { deviceId, msgId: randomUUID(), idx: 0, at, receivedAt, level: "info", kind: "test", message: "m" } });
  return row.id;
}
async function ledger(deviceId: string, sentAt: Date, msgId: string = randomUUID()) {
  await db().processedMessage.create({ data: { msgId, deviceId, kind: "heartbeat", seq: 1n, sentAt, receivedAt: sentAt } });
  return msgId;
}

describe("retention", () => {
  it("deletes in batches what is past retention; keeps recent rows and each device's latest heartbeat and inventory", async () => {
    const [a, b] = [await t.enrollDevice("ret-a"), await t.enrollDevice("ret-b")];
    const metricsBefore = { pm: await deletedMetric("ProcessedMessage"), hb: await deletedMetric("Heartbeat") };

    const hbGone = [await heartbeat(a.id, ago(10)), await heartbeat(a.id, ago(9)), await heartbeat(a.id, ago(8)), await heartbeat(b.id, ago(20))];
    const hbKept = [await heartbeat(a.id, ago(1)), await heartbeat(a.id, ago(0)), await heartbeat(b.id, ago(15))]; // b: only old ones, latest stays
    const invGone = [await snapshot(a.id, ago(200)), await snapshot(a.id, ago(100))];
    const invKept = [await snapshot(a.id, ago(10)), await snapshot(b.id, ago(100))]; // b's only snapshot is its hardware: kept
    // Events go by server receive time, not by the device's clock (`at` far in the past stays when received recently).
    const evGone = [await event(a.id, ago(100)), await event(a.id, ago(95)), await event(b.id, ago(91))];
    const evKept = [await event(a.id, ago(89)), await event(a.id, ago(1), ago(400))];
    const pmGone = [await ledger(a.id, ago(40)), await ledger(a.id, ago(31 + LEDGER_MARGIN_DAYS)), await ledger(b.id, ago(365))];
    const pmKept = [await ledger(a.id, ago(30.5)), await ledger(b.id, ago(1))]; // past 30 days but inside the clock-skew margin, and recent

    const run = await retention.runOnce();
    expect(run).toMatchObject({ skipped: false, deleted: { ProcessedMessage: 3, Heartbeat: 4, InventorySnapshot: 2, DeviceEvent: 3 } });
    // 2 rows per batch: ProcessedMessage 2+1, Heartbeat 2+2+0, InventorySnapshot 2+0, DeviceEvent 2+1, and one empty batch
    // each for AuditLog, PostureReport, RuntimeMetric, ModelLoad, BenchmarkRun, EgressReport (nothing old there in this test)
    expect(run.skipped === false && run.batches).toBe(15);

    const ids = async <T extends { id: string }>(rows: Promise<T[]>) => (await rows).map((r) => r.id).sort();
    const devices = { deviceId: { in: [a.id, b.id] } };
    expect(await ids(db().heartbeat.findMany({ where: devices }))).toEqual([...hbKept].sort());
    expect(await ids(db().inventorySnapshot.findMany({ where: devices }))).toEqual([...invKept].sort());
    expect((await db().gpu.findMany({ where: devices })).map((g) => g.snapshotId).sort()).toEqual([...invKept].sort());
    expect(await ids(db().deviceEvent.findMany({ where: devices }))).toEqual([...evKept].sort());
    expect((await db().processedMessage.findMany({ where: devices })).map((m) => m.msgId).sort()).toEqual([...pmKept].sort());
    const gone = await Promise.all([
      db().heartbeat.count({ where: { id: { in: hbGone } } }),
      db().inventorySnapshot.count({ where: { id: { in: invGone } } }),
      db().deviceEvent.count({ where: { id: { in: evGone } } }),
      db().processedMessage.count({ where: { msgId: { in: pmGone } } }),
    ]);
    expect(gone).toEqual([0, 0, 0, 0]);

    expect(await deletedMetric("ProcessedMessage")).toBe(metricsBefore.pm + 3);
    expect(await deletedMetric("Heartbeat")).toBe(metricsBefore.hb + 4);

    // A second pass finds nothing more: the kept rows are exactly what must stay.
    expect(await retention.runOnce()).toMatchObject({ skipped: false, deleted: { ProcessedMessage: 0, Heartbeat: 0, InventorySnapshot: 0, DeviceEvent: 0 } });
  });

  it("an old report replayed after its ledger row was pruned is still rejected as replayed, and stores nothing", async () => {
    const d: SimDevice = await t.enrollDevice("ret-replay");
    // Accepted 40 days ago: its ledger row and heartbeat row were written then.
    const old = d.report("heartbeat", heartbeatBody(), { sentAt: ago(40).toISOString() });
    const signed = await d.sign(old);
    await ledger(d.id, new Date(old.sentAt), old.msgId);
    await heartbeat(d.id, ago(40));

    await retention.runOnce();
    expect(await db().processedMessage.findUnique({ where: { msgId: old.msgId } })).toBeNull();

    const replayed = async () => metricValue(await t.metrics(), "fleet_reports_rejected_total", { reason: "replayed" });
    const before = await replayed();
    await d.publishRaw("heartbeat", signed);
    await waitFor(async () => (await replayed()) === before + 1, "the replay rejected");
    expect(await db().processedMessage.findUnique({ where: { msgId: old.msgId } })).toBeNull();
    expect(await db().heartbeat.count({ where: { deviceId: d.id } })).toBe(1);
    const audit = await db().auditLog.findFirst({ where: { action: "report.rejected", targetId: d.id } });
    expect(audit?.details).toMatchObject({ reason: "replayed" });
  });

  it("skips the run while another instance holds the retention lock", async () => {
    const d = await t.enrollDevice("ret-lock");
    const old = await event(d.id, ago(200));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const other = db().$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${0x666c7274})`;
      locked();
      await held;
    });
    await Promise.race([isLocked, other]);
    try {
      expect(await retention.runOnce()).toEqual({ skipped: true });
      expect(await db().deviceEvent.findUnique({ where: { id: old } })).not.toBeNull();
    } finally {
      release();
      await other;
    }
    expect(await retention.runOnce()).toMatchObject({ skipped: false, deleted: { DeviceEvent: 1 } });
  });

  it("runs on its own every RETENTION_INTERVAL_SEC", async () => {
    const t2 = await startTestServer({ RETENTION_INTERVAL_SEC: "1" });
    try {
      const d = await t2.enrollDevice("ret-timer");
      const old = await t2.db.prisma.deviceEvent.create({
        data: { deviceId: d.id, msgId: randomUUID(), idx: 0, at: ago(100), receivedAt: ago(100), level: "info", kind: "test", message: "m" },
      });
      await waitFor(async () => (await t2.db.prisma.deviceEvent.findUnique({ where: { id: old.id } })) === null || null, "the scheduled run pruned the old event", 5_000);
      expect(metricValue(await t2.metrics(), "fleet_retention_deleted_total", { table: "DeviceEvent" })).toBe(1);
    } finally {
      await t2.close();
    }
  });
});
