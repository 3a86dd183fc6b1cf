import { Inject, Injectable } from "@nestjs/common";
import { Prisma } from "@fleet/db";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";

/** Transaction-scoped advisory lock key: one instance prunes a batch at a time ("fleet-ret"). */
const RETENTION_LOCK = 0x666c7274;

/**
 * Bounded deletes for the retention service. Each call deletes at most `limit` rows in its own short
 * transaction, so no statement holds locks for long. Returns null when another instance holds the
 * retention lock (it is pruning the same rows right now).
 */
/** A table pruned by age where each group's newest row stays (the UI shows it however old). Names are constants. */
interface KeepNewest {
  table: string;
  time: string;
  groupBy: string[];
}

/** Up to `limit` rows of the table older than `before`, except each group's newest (ties broken by id). */
function deleteOlderExceptNewest(tx: Tx, t: KeepNewest, before: Date, limit: number): Promise<number> {
  const name = (n: string) => Prisma.raw(`"${n}"`);
  const sameGroup = Prisma.join(t.groupBy.map((c) => Prisma.sql`n.${name(c)} = o.${name(c)}`), " AND ");
  return tx.$executeRaw`DELETE FROM ${name(t.table)} WHERE id IN (
    SELECT o.id FROM ${name(t.table)} o WHERE o.${name(t.time)} < ${before}
      AND EXISTS (SELECT 1 FROM ${name(t.table)} n WHERE ${sameGroup} AND (n.${name(t.time)}, n.id) > (o.${name(t.time)}, o.id))
    LIMIT ${limit})`;
}

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
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "Heartbeat", time: "receivedAt", groupBy: ["deviceId"] }, receivedBefore, limit));
  }

  /** Old inventory snapshots (their Gpu rows cascade), except each device's latest: it is the device's hardware. */
  deleteInventorySnapshots(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "InventorySnapshot", time: "receivedAt", groupBy: ["deviceId"] }, receivedBefore, limit));
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
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "PostureReport", time: "receivedAt", groupBy: ["deviceId"] }, receivedBefore, limit));
  }

  /** Old outbound ledgers (same age as postures), except each device's latest; EgressDestination keeps the totals. */
  deleteEgressReports(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "EgressReport", time: "receivedAt", groupBy: ["deviceId"] }, receivedBefore, limit));
  }

  /** Old runtime metric windows, except the latest per device and model (the runtime page shows it). */
  deleteRuntimeMetrics(receivedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "RuntimeMetric", time: "receivedAt", groupBy: ["deviceId", "modelId"] }, receivedBefore, limit));
  }

  /** Old model loads (by their time on the device: the table has no receive time), except the latest per device and model. */
  deleteModelLoads(before: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "ModelLoad", time: "at", groupBy: ["deviceId", "modelId"] }, before, limit));
  }

  /** Old benchmark runs (by request time on the server), except each device's latest. */
  deleteBenchmarkRuns(requestedBefore: Date, limit: number): Promise<number | null> {
    return this.locked((tx) => deleteOlderExceptNewest(tx, { table: "BenchmarkRun", time: "requestedAt", groupBy: ["deviceId"] }, requestedBefore, limit));
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
