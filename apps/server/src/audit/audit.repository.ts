import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";

export interface AuditEntry {
  actor: string;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Prisma.InputJsonValue;
}

/** Append-only audit trail: admin actions, enrollments, refused reports. */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    await (tx ?? this.db).auditLog.create({ data: entry });
  }

  async list(filter: { action?: string; targetId?: string; limit: number }) {
    return this.db.auditLog.findMany({
      where: { action: filter.action, targetId: filter.targetId },
      orderBy: { at: "desc" },
      take: filter.limit,
    });
  }
}
