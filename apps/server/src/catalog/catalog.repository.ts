import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import type { TCatalogFactsV1, TCatalogState } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { PRISMA } from "../common/config.token.js";
import { isUniqueViolation, type Db } from "../common/prisma.js";

export type CatalogEntryRow = Prisma.CatalogEntryGetPayload<object>;

export class DuplicateEntryError extends Error {
  override name = "DuplicateEntryError";
}

export type TransitionResult = { ok: true; entry: CatalogEntryRow } | { ok: false; reason: "not_found" } | { ok: false; reason: "bad_state"; state: TCatalogState };

@Injectable()
export class CatalogRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  async exists(name: string, version: string): Promise<boolean> {
    return (await this.db.catalogEntry.count({ where: { name, version } })) > 0;
  }

  /** Insert a draft entry and its audit row together; a taken name+version is a DuplicateEntryError. */
  async create(input: { targetPath: string; facts: TCatalogFactsV1; actor: string; via: string }): Promise<CatalogEntryRow> {
    const f = input.facts;
    try {
      return await this.db.$transaction(async (tx) => {
        const entry = await tx.catalogEntry.create({
          data: {
            name: f.name,
            version: f.version,
            targetPath: input.targetPath,
            state: "draft",
            sha256: f.sha256,
            sizeBytes: BigInt(f.fileSizeBytes),
            architecture: f.architecture,
            quantization: f.quantization.type,
            parameterCount: BigInt(f.parameterCount),
            contextLength: f.contextLength,
            license: f.license,
            facts: f as unknown as Prisma.InputJsonValue,
            createdBy: input.actor,
            stateChangedBy: input.actor,
            stateReason: `imported (${input.via})`,
          },
        });
        await this.audit.record(
          { actor: input.actor, action: "catalog.imported", targetType: "catalog_entry", targetId: entry.id, details: { targetPath: entry.targetPath, sha256: f.sha256, sizeBytes: f.fileSizeBytes, via: input.via } },
          tx,
        );
        return entry;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateEntryError(`${f.name} ${f.version} is already in the catalog`);
      throw err;
    }
  }

  get(id: string): Promise<CatalogEntryRow | null> {
    return this.db.catalogEntry.findUnique({ where: { id } });
  }

  /** Entries devices may run: approved (rollouts target only these). */
  findApproved(): Promise<CatalogEntryRow[]> {
    return this.db.catalogEntry.findMany({ where: { state: "approved" }, orderBy: { createdAt: "asc" } });
  }

  async list(q: { page: number; pageSize: number; state?: TCatalogState; name?: string }): Promise<{ items: CatalogEntryRow[]; total: number }> {
    const where = { state: q.state, name: q.name };
    const [items, total] = await this.db.$transaction([
      this.db.catalogEntry.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "asc" }], skip: (q.page - 1) * q.pageSize, take: q.pageSize }),
      this.db.catalogEntry.count({ where }),
    ]);
    return { items, total };
  }

  /** Move an entry from one of `from` to `to` atomically, audited with who, when, why and the state it left. */
  async transition(id: string, from: readonly TCatalogState[], to: TCatalogState, actor: string, reason: string): Promise<TransitionResult> {
    return this.db.$transaction(async (tx) => {
      const before = await tx.catalogEntry.findUnique({ where: { id }, select: { state: true } });
      if (!before) return { ok: false as const, reason: "not_found" as const };
      if (!from.includes(before.state)) return { ok: false as const, reason: "bad_state" as const, state: before.state };
      const now = new Date();
      // Conditional on the state read above: a concurrent transition makes this one a conflict, not a double move.
      const moved = await tx.catalogEntry.updateMany({ where: { id, state: before.state }, data: { state: to, stateChangedAt: now, stateChangedBy: actor, stateReason: reason } });
      if (moved.count === 0) return { ok: false as const, reason: "bad_state" as const, state: before.state };
      const entry = await tx.catalogEntry.findUniqueOrThrow({ where: { id } });
      await this.audit.record({ actor, action: `catalog.${to}`, targetType: "catalog_entry", targetId: id, details: { reason, from: before.state, to, targetPath: entry.targetPath } }, tx);
      return { ok: true as const, entry };
    });
  }
}
