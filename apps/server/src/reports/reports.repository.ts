import { Inject, Injectable, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { createPgPool } from "@fleet/db";
import type { ReportKind, TReportV1 } from "@fleet/protocol";
import { CONFIG, LOGGER, PRISMA } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { Db } from "../common/prisma.js";
import { AuditRepository, type AggregatedAuditEntry } from "../audit/audit.repository.js";
import { REFUSAL_AUDIT_BUCKET_SEC } from "../audit/refusal-audit.js";
import { UPSERT_LIVENESS } from "../devices/liveness.repository.js";
import { withTimeout } from "../common/with-timeout.js";
import { reportWriters, type BatchSql, type BatchWriter, type WriteItem, type WriteOutcome } from "./report-writers.js";

export type StoreResult = { outcome: "duplicate" } | { outcome: "device_gone" } | ({ outcome: "stored" } & WriteOutcome);

/** What a batch changes on a device row besides its reports (null: unchanged). */
export interface DeviceChange {
  id: string;
  agentVersion: string | null;
  seenAt: Date | null;
  seq: number | null;
}

/**
 * Run first in every ingest transaction. A trigram GIN index on Device.id (since removed) made the planner look
 * devices up for id = ANY(...) or a join by id with bitmap scans of it (it estimates a trigram equality like a unique
 * lookup): tens of ms per device once the index's pending list had grown, seconds per batch (bench/fleet-sim at
 * 10,000 devices). GIN can only be read by bitmap scans, so without them every Device lookup here stays a primary key
 * scan whatever GIN index Device gets; the batch's other statements use plain index scans.
 */
export const NO_BITMAP_SCANS = "SET LOCAL enable_bitmapscan = off";

/**
 * The first statement of every ingest transaction: which of the batch's devices are active, locked until the commit.
 * A key-share lock: a revocation locks the row FOR UPDATE first, so it waits for this commit (or wins before it and
 * the device is not active here); the liveness flush's non-key row updates neither wait for it nor block it (a share
 * lock made each flush and the batches around it wait for one another: hundreds of ms per batch under load).
 */
export const LOCK_ACTIVE_DEVICES = `SELECT id FROM "Device" WHERE id = ANY($1::text[]) AND state = 'active' ORDER BY id FOR KEY SHARE`;

/** How long shutdown waits for the ingest connections to be given back and closed. */
const POOL_END_MS = 3_000;

/** Kinds in the order their writers run within a batch. */
const KINDS = Object.keys(reportWriters) as ReportKind[];

@Injectable()
export class ReportsRepository implements OnModuleDestroy {
  /** The ingest's own connections (plain pg, no Prisma on the hot path): one per plain commit lane, and a spare. */
  private readonly pool: ReturnType<typeof createPgPool>;
  /** Rejection audit writes about to be made, by audit row (reason, device): later rejections of the row join them. */
  private readonly pendingRejections = new Map<string, { entry: AggregatedAuditEntry; count: number; written: Promise<void> }>();
  private readonly log: Logger;

  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
    @Inject(CONFIG) config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "ReportsRepository" });
    this.pool = createPgPool(config.databaseUrl, {
      max: 3,
      connectionTimeoutMillis: 10_000,
      // as Prisma's interactive transaction timeout: a hung batch gives its connection back and is redelivered
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 30_000,
    });
    // an idle connection dropped by a database restart must not take the process down; the next batch reconnects
    this.pool.on("error", (err: Error) => this.log.warn({ err }, "idle ingest database connection failed"));
  }

  /**
   * pool.end() waits for every checked-out connection: a batch still committing when the consumer gave up waiting for
   * it (a hung database) would hold shutdown up to its statement timeout. Bounded; its reports were not acked and are
   * redelivered.
   */
  async onModuleDestroy(): Promise<void> {
    await withTimeout(this.pool.end(), POOL_END_MS, "ingest pool close").catch((err: unknown) => this.log.warn({ err }, "ingest database connections did not close in time"));
  }

  /**
   * Store a batch of verified reports, each exactly once, in ONE transaction: the active devices are read and locked
   * (LOCK_ACTIVE_DEVICES), then one multi-row ProcessedMessage
   * INSERT ... ON CONFLICT DO NOTHING claims the msgIds, and only the claimed reports are written, a few
   * statements per kind. A failure rolls back the whole batch: every message is redelivered and nothing of it
   * remains. The msgIds must be distinct (the caller drops repeats within a batch). Liveness (lastSeenAt, lastSeq)
   * is mostly not written here (PresenceService flushes it every second): `devices` carries only what must be
   * visible with the report, a device's agent version when it changed and lastSeenAt when it comes online.
   * `stampOf` is each report's receivedAt (ArrivalClock: in each device's order).
   */
  async storeBatch(reports: TReportV1[], stampOf: ReadonlyMap<TReportV1, Date>, devices: DeviceChange[] = []): Promise<StoreResult[]> {
    if (!reports.length) return [];
    const needsPrisma = reports.some((r) => reportWriters[r.kind].needsPrisma);
    return this.inTransaction(needsPrisma, async (db) => {
      const deviceIds = [...new Set(reports.map((r) => r.deviceId))].sort();
      const active = await db.query<{ id: string }>(LOCK_ACTIVE_DEVICES, [deviceIds]);
      const activeIds = new Set(active.map((d) => d.id));
      const live = reports.filter((r) => activeIds.has(r.deviceId));
      const rows = live.map((r) => ({ msgId: r.msgId, deviceId: r.deviceId, kind: r.kind, seq: r.seq, sentAt: new Date(r.sentAt), receivedAt: stampOf.get(r)! }));
      const claimedRows = rows.length
        ? await db.query<{ msgId: string }>(
            `INSERT INTO "ProcessedMessage" ("msgId", "deviceId", "kind", "seq", "sentAt", "receivedAt")
            SELECT "msgId", "deviceId", "kind", "seq", "sentAt", "receivedAt" FROM json_to_recordset($1::json)
              AS x("msgId" text, "deviceId" text, "kind" text, "seq" bigint, "sentAt" timestamp(3), "receivedAt" timestamp(3))
            ON CONFLICT ("msgId") DO NOTHING RETURNING "msgId"`,
            [JSON.stringify(rows)],
          )
        : [];
      const claimed = new Set(claimedRows.map((r) => r.msgId));

      const changes = devices.filter((c) => activeIds.has(c.id));
      const versions = changes.filter((c) => c.agentVersion !== null);
      if (versions.length) {
        await db.execute(
          `UPDATE "Device" d SET "agentVersion" = x."agentVersion", "updatedAt" = now()
          FROM json_to_recordset($1::json) AS x("id" text, "agentVersion" text)
          WHERE d.id = ANY($2::text[]) AND d.id = x."id"
            -- after a restart every device's first heartbeat carries its version: no row version for an unchanged one
            AND x."agentVersion" IS DISTINCT FROM d."agentVersion"`,
          [JSON.stringify(versions), versions.map((c) => c.id)],
        );
      }
      const seen = changes.flatMap((c) => (c.seenAt ? [{ id: c.id, lastSeenAt: c.seenAt, lastSeq: c.seq ?? -1 }] : []));
      if (seen.length) await db.execute(UPSERT_LIVENESS, [JSON.stringify(seen), seen.map((c) => c.id)]);

      const results = new Map<TReportV1, StoreResult>();
      for (const kind of KINDS) {
        const mine = live.filter((r) => r.kind === kind && claimed.has(r.msgId));
        if (!mine.length) continue;
        const items: WriteItem[] = mine.map((r) => ({ deviceId: r.deviceId, msgId: r.msgId, sentAt: new Date(r.sentAt), receivedAt: stampOf.get(r)!, body: r.body }));
        const outcomes = await (reportWriters[kind] as BatchWriter<ReportKind>)(db, items);
        mine.forEach((r, i) => results.set(r, { outcome: "stored", ...outcomes[i] }));
      }
      return reports.map((r): StoreResult => results.get(r) ?? (activeIds.has(r.deviceId) ? { outcome: "duplicate" } : { outcome: "device_gone" }));
    });
  }

  /** A Prisma interactive transaction when a writer needs Prisma, else BEGIN/COMMIT on the ingest pool. */
  private async inTransaction<T>(needsPrisma: boolean, fn: (db: BatchSql) => Promise<T>): Promise<T> {
    if (needsPrisma) {
      return this.db.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(NO_BITMAP_SCANS);
          return fn({ query: (text, params) => tx.$queryRawUnsafe(text, ...params), execute: (text, params) => tx.$executeRawUnsafe(text, ...params), prisma: tx });
        },
        { timeout: 30_000, maxWait: 10_000 },
      );
    }
    const client = await this.pool.connect();
    let failed: Error | undefined;
    // pg-pool listens for errors on idle clients only: a checked-out connection cut by a database restart emits
    // 'error' (its query in flight fails too), which without a listener is an uncaught exception that ends the process
    const onError = (err: Error) => void (failed ??= err);
    client.on("error", onError);
    try {
      await client.query(`BEGIN; ${NO_BITMAP_SCANS}`);
      const out = await fn({
        query: async <R>(text: string, params: unknown[]) => (await client.query(text, params)).rows as R[],
        execute: async (text, params) => (await client.query(text, params)).rowCount ?? 0,
        prisma: null,
      });
      await client.query("COMMIT");
      return out;
    } catch (err) {
      failed = err instanceof Error ? err : new Error(String(err));
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.off("error", onError);
      // a connection that saw an error (a restarted database, a timeout) is dropped rather than reused
      client.release(failed);
    }
  }

  /**
   * Aggregated (AuditRepository.countInBucket): one row per reason per device per hour. A device id that is not
   * enrolled (unknown_device, malformed subject) is anyone's to invent, so those share one row per reason.
   * Rejections of the same row that arrive together (a batch's, verified in one tick) share one write that counts them
   * all: a flood of hostile messages costs a few audit transactions per batch, not one each (one each starved the
   * database pool that the reports' own transactions need).
   */
  async recordRejection(details: { reason: string; detail: string; subject: string; deviceId: string | null; streamSeq: number }): Promise<void> {
    const perDevice = details.deviceId !== null && details.reason !== "unknown_device" && details.reason !== "malformed";
    const entry = {
      actor: perDevice ? `device:${details.deviceId}` : "nats",
      action: "report.rejected",
      reason: details.reason,
      targetType: "device",
      targetId: perDevice ? details.deviceId : null,
      bucketSec: REFUSAL_AUDIT_BUCKET_SEC,
      sample: { detail: details.detail.slice(0, 300), subject: details.subject.slice(0, 300), streamSeq: details.streamSeq, deviceId: details.deviceId },
    };
    const key = `${entry.reason}|${entry.targetId ?? ""}`;
    const joined = this.pendingRejections.get(key);
    if (joined) {
      joined.count++;
      joined.entry = entry; // the latest one is the row's sample
      return joined.written;
    }
    const pending = { entry, count: 1, written: Promise.resolve() };
    this.pendingRejections.set(key, pending);
    pending.written = (async () => {
      await new Promise((r) => setImmediate(r));
      this.pendingRejections.delete(key);
      await this.audit.countInBucket(pending.entry, new Date(), pending.count);
    })();
    return pending.written;
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.$queryRaw`SELECT 1`;
      return true;
    } catch {
      return false;
    }
  }
}
