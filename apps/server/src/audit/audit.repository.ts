import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";
import { actingAs } from "../common/request-context.js";

export interface AuditEntry {
  actor: string;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Prisma.InputJsonValue;
}

export interface AggregatedAuditEntry {
  actor: string;
  action: string;
  reason: string;
  targetType?: string;
  targetId?: string | null;
  /** length of the time bucket that one row covers */
  bucketSec: number;
  /** the latest occurrence, kept as details.last */
  sample: Prisma.InputJsonObject;
}

/** Append-only audit trail: admin actions, enrollments, refused reports. */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    await (tx ?? this.db).auditLog.create({ data: { ...entry, actor: actingAs(entry.actor) } });
  }

  /**
   * Bounded audit of refusals: one row per (action, reason, target) per time bucket, whose details.count goes up, instead
   * of one row per refusal (a flood of forged reports or bad tokens would otherwise grow the table without limit).
   * details keeps the first and last time and the last occurrence as a sample. An advisory lock per key makes concurrent
   * instances add to the same row.
   */
  async countInBucket(entry: AggregatedAuditEntry, now: Date = new Date(), count = 1): Promise<void> {
    const bucketMs = entry.bucketSec * 1000;
    const bucket = new Date(Math.floor(now.getTime() / bucketMs) * bucketMs);
    const targetId = entry.targetId ?? null;
    const key = `${entry.action}|${entry.reason}|${targetId ?? ""}|${bucket.toISOString()}`;
    const last = JSON.stringify(entry.sample);
    await this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${key}::text))::text AS locked`;
      const updated = await tx.$executeRaw`UPDATE "AuditLog"
        SET details = details || jsonb_build_object('count', COALESCE((details->>'count')::bigint, 0) + ${count}::bigint, 'lastAt', ${now.toISOString()}::text, 'last', ${last}::jsonb)
        WHERE action = ${entry.action} AND at = ${bucket} AND "targetId" IS NOT DISTINCT FROM ${targetId}::text AND details->>'reason' = ${entry.reason}::text`;
      if (updated > 0) return;
      await tx.auditLog.create({
        data: {
          at: bucket,
          actor: entry.actor,
          action: entry.action,
          targetType: entry.targetType,
          targetId: targetId ?? undefined,
          details: { reason: entry.reason, count, firstAt: now.toISOString(), lastAt: now.toISOString(), bucketSec: entry.bucketSec, last: entry.sample },
        },
      });
    });
  }

  async list(filter: { action?: string; targetId?: string; limit: number }) {
    return this.db.auditLog.findMany({
      where: { action: filter.action, targetId: filter.targetId },
      orderBy: { at: "desc" },
      take: filter.limit,
    });
  }
}
