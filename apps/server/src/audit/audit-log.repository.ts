import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import type { TAuditListQueryV1 } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export type AuditFilter = Omit<TAuditListQueryV1, "page" | "pageSize">;

function where(f: AuditFilter): Prisma.AuditLogWhereInput {
  return {
    ...(f.actor ? { actor: { contains: f.actor, mode: "insensitive" } } : {}),
    ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: f.action } } : { action: f.action }) : {}),
    ...(f.targetType ? { targetType: f.targetType } : {}),
    ...(f.targetId ? { targetId: f.targetId } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: new Date(f.from) } : {}), ...(f.to ? { lte: new Date(f.to) } : {}) } } : {}),
  };
}

const ORDER: Prisma.AuditLogOrderByWithRelationInput[] = [{ at: "desc" }, { id: "desc" }];

/** Reading the audit trail for people: filtered, newest first (the at DESC index), paged or streamed in batches. */
@Injectable()
export class AuditLogRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async page(filter: AuditFilter, page: number, pageSize: number) {
    const w = where(filter);
    const [items, total] = await Promise.all([
      this.db.auditLog.findMany({ where: w, orderBy: ORDER, skip: (page - 1) * pageSize, take: pageSize }),
      this.db.auditLog.count({ where: w }),
    ]);
    return { items, total };
  }

  /** Every matching row, newest first, `batch` at a time (keyset on at/id, so late pages cost no OFFSET scan), at most `limit`. */
  async *stream(filter: AuditFilter, limit: number, batch = 1000) {
    const w = where(filter);
    let cursor: { id: string } | undefined;
    let sent = 0;
    while (sent < limit) {
      const rows = await this.db.auditLog.findMany({
        where: w,
        orderBy: ORDER,
        take: Math.min(batch, limit - sent),
        ...(cursor ? { cursor, skip: 1 } : {}),
      });
      if (rows.length === 0) return;
      for (const r of rows) yield r;
      sent += rows.length;
      cursor = { id: rows[rows.length - 1]!.id };
    }
  }
}
