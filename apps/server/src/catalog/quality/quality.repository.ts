import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { AuditRepository } from "../../audit/audit.repository.js";
import { PRISMA } from "../../common/config.token.js";
import type { Db } from "../../common/prisma.js";

export type CatalogQualityRow = Prisma.CatalogQualityGetPayload<object>;
export type QualityRecord = Omit<CatalogQualityRow, "measuredAt" | "settings"> & { settings: Prisma.InputJsonObject };

export interface SpeedSample {
  sha256: string;
  tgTokensPerSec: number | null;
  ppTokensPerSec: number | null;
}

/** Quality scores of catalog entries (one latest row per entry), and what the variants comparison reads. */
@Injectable()
export class QualityRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  /** Replace the entry's score and audit the measurement in one transaction. */
  async save(record: QualityRecord, actor: string): Promise<CatalogQualityRow> {
    return this.db.$transaction(async (tx) => {
      const { entryId, ...data } = record;
      const row = await tx.catalogQuality.upsert({ where: { entryId }, create: { entryId, ...data }, update: { ...data, measuredAt: new Date() } });
      await this.audit.record(
        {
          actor,
          action: "catalog.quality_measured",
          targetType: "catalog_entry",
          targetId: entryId,
          details: { referenceEntryId: record.referenceEntryId, perplexity: record.perplexity, top1Agreement: record.top1Agreement, referencePerplexity: record.referencePerplexity, harnessVersion: record.harnessVersion, textId: record.textId, contextSize: record.contextSize, settings: record.settings },
        },
        tx,
      );
      return row;
    });
  }

  recordFailure(entryId: string, referenceEntryId: string, error: string, actor: string): Promise<void> {
    return this.audit.record({ actor, action: "catalog.quality_failed", targetType: "catalog_entry", targetId: entryId, details: { referenceEntryId, error: error.slice(0, 2000) } });
  }

  get(entryId: string): Promise<CatalogQualityRow | null> {
    return this.db.catalogQuality.findUnique({ where: { entryId } });
  }

  findMany(entryIds: string[]): Promise<CatalogQualityRow[]> {
    return entryIds.length ? this.db.catalogQuality.findMany({ where: { entryId: { in: entryIds } } }) : Promise.resolve([]);
  }

  /** Entries that may be variants of one source model (the repository is compared by the caller, normalized). */
  candidateVariants(architecture: string, parameterCount: bigint) {
    return this.db.catalogEntry.findMany({ where: { architecture, parameterCount }, orderBy: [{ sizeBytes: "desc" }, { createdAt: "asc" }] });
  }

  /** The latest completed benchmarks of these files (bounded), for a median per file. */
  async speedSamples(sha256s: string[]): Promise<SpeedSample[]> {
    if (!sha256s.length) return [];
    const rows = await this.db.benchmarkRun.findMany({
      where: { sha256: { in: sha256s }, status: "completed" },
      orderBy: { requestedAt: "desc" },
      take: 2000,
      select: { sha256: true, tgTokensPerSec: true, ppTokensPerSec: true },
    });
    return rows.filter((r): r is SpeedSample => r.sha256 !== null);
  }
}
