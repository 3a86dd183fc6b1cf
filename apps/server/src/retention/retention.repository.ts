import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";

/** Transaction-scoped advisory lock key: one instance prunes a batch at a time ("fleet-ret"). */
const RETENTION_LOCK = 0x666c7274;

/**
 * Bounded deletes for the retention service. Each call deletes at most `limit` rows in its own short
 * transaction, so no statement holds locks for long. Returns null when another instance holds the
 * retention lock (it is pruning the same rows right now).
 */
@Injectable()
export class RetentionRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** Ledger rows whose report is older than the replay window (the consumer rejects those before any ledger lookup). */
  deleteProcessedMessages(sentBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "ProcessedMessage" WHERE "msgId" IN (
      SELECT "msgId" FROM "ProcessedMessage" WHERE "sentAt" < ${sentBefore} LIMIT ${limit})`);
  }

  /** Old heartbeats, except each device's latest (the device page shows it however old). */
  deleteHeartbeats(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "Heartbeat" WHERE id IN (
      SELECT h.id FROM "Heartbeat" h WHERE h."receivedAt" < ${receivedBefore}
        AND EXISTS (SELECT 1 FROM "Heartbeat" n WHERE n."deviceId" = h."deviceId" AND (n."receivedAt", n.id) > (h."receivedAt", h.id))
      LIMIT ${limit})`);
  }

  /** Old inventory snapshots (their Gpu rows cascade), except each device's latest: it is the device's hardware. */
  deleteInventorySnapshots(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "InventorySnapshot" WHERE id IN (
      SELECT s.id FROM "InventorySnapshot" s WHERE s."receivedAt" < ${receivedBefore}
        AND EXISTS (SELECT 1 FROM "InventorySnapshot" n WHERE n."deviceId" = s."deviceId" AND (n."receivedAt", n.id) > (s."receivedAt", s.id))
      LIMIT ${limit})`);
  }

  /** Old device events, by server receive time (a device's wrong clock cannot make its events vanish early). */
  deleteDeviceEvents(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "DeviceEvent" WHERE id IN (
      SELECT id FROM "DeviceEvent" WHERE "receivedAt" < ${receivedBefore} LIMIT ${limit})`);
  }

  /** Old audit rows (refusals are aggregated per hour, so this is the only bound left on admin/enrollment history). */
  deleteAuditLogs(before: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "AuditLog" WHERE id IN (
      SELECT id FROM "AuditLog" WHERE "at" < ${before} LIMIT ${limit})`);
  }

  /** Old posture reports, except each device's latest (the device page and compliance read it). */
  deletePostureReports(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "PostureReport" WHERE id IN (
      SELECT p.id FROM "PostureReport" p WHERE p."receivedAt" < ${receivedBefore}
        AND EXISTS (SELECT 1 FROM "PostureReport" n WHERE n."deviceId" = p."deviceId" AND (n."receivedAt", n.id) > (p."receivedAt", p.id))
      LIMIT ${limit})`);
  }

  /** Old runtime metric windows, except the latest per device and model (the runtime page shows it). */
  deleteRuntimeMetrics(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "RuntimeMetric" WHERE id IN (
      SELECT m.id FROM "RuntimeMetric" m WHERE m."receivedAt" < ${receivedBefore}
        AND EXISTS (SELECT 1 FROM "RuntimeMetric" n WHERE n."deviceId" = m."deviceId" AND n."modelId" = m."modelId" AND (n."receivedAt", n.id) > (m."receivedAt", m.id))
      LIMIT ${limit})`);
  }

  /** Old model loads (by their time on the device: the table has no receive time), except the latest per device and model. */
  deleteModelLoads(before: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "ModelLoad" WHERE id IN (
      SELECT l.id FROM "ModelLoad" l WHERE l."at" < ${before}
        AND EXISTS (SELECT 1 FROM "ModelLoad" n WHERE n."deviceId" = l."deviceId" AND n."modelId" = l."modelId" AND (n."at", n.id) > (l."at", l.id))
      LIMIT ${limit})`);
  }

  /** Old benchmark runs (by request time on the server), except each device's latest. */
  deleteBenchmarkRuns(requestedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => tx.$executeRaw`DELETE FROM "BenchmarkRun" WHERE id IN (
      SELECT b.id FROM "BenchmarkRun" b WHERE b."requestedAt" < ${requestedBefore}
        AND EXISTS (SELECT 1 FROM "BenchmarkRun" n WHERE n."deviceId" = b."deviceId" AND (n."requestedAt", n.id) > (b."requestedAt", b.id))
      LIMIT ${limit})`);
  }

  private async locked(del: (tx: Tx) => Promise<number>): Promise<number | null> {
    return this.db.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK}) AS locked`;
        if (!row?.locked) return null;
        return del(tx);
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
  }
}
