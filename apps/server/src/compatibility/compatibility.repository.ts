import { Inject, Injectable } from "@nestjs/common";
import type { TCompatibilityClass } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { matrixCountSql, matrixPageSql, type MatrixFilter } from "./compatibility-matrix.sql.js";
import { LIST_TOTAL_TTL_MS, TotalsCache } from "../devices/totals-cache.js";

export interface CompatEntry {
  id: string;
  targetPath: string;
  sizeBytes: bigint;
  facts: unknown;
}

export interface DeviceInventory {
  deviceId: string;
  data: unknown;
}

export interface CompatRow {
  deviceId: string;
  entryId: string;
  class: TCompatibilityClass;
  gpuLayers: number;
  totalLayers: number;
  hardwareClass: string;
  reason: string | null;
  plan: unknown;
}

export type { MatrixFilter };

/** A row of the matrix page. */
export interface MatrixRow {
  deviceId: string;
  hostname: string;
  entryId: string;
  targetPath: string;
  class: string;
  gpuLayers: number;
  totalLayers: number;
  hardwareClass: string;
  reason: string | null;
  plan: unknown;
  computedAt: Date;
}

@Injectable()
export class CompatibilityRepository {
  /** matrix totals per filter, reused for a few seconds; cleared whenever this instance writes rows */
  private readonly totals = new TotalsCache(LIST_TOTAL_TTL_MS);

  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  /** Entries that get compatibility rows: approved and deprecated (optionally only these ids). */
  entries(ids?: string[]): Promise<CompatEntry[]> {
    return this.db.catalogEntry.findMany({
      where: { state: { in: ["approved", "deprecated"] }, ...(ids ? { id: { in: ids } } : {}) },
      select: { id: true, targetPath: true, sizeBytes: true, facts: true },
    });
  }

  /** Learned incompatibilities of these entries: entryId -> runtimeKey -> reason. */
  async learned(entryIds: string[]): Promise<Map<string, Map<string, string>>> {
    const rows = await this.db.runtimeIncompatibility.findMany({ where: { entryId: { in: entryIds } }, select: { entryId: true, runtimeKey: true, reason: true } });
    const out = new Map<string, Map<string, string>>();
    for (const r of rows) {
      if (!out.has(r.entryId)) out.set(r.entryId, new Map());
      out.get(r.entryId)!.set(r.runtimeKey, r.reason);
    }
    return out;
  }

  /** The latest inventory of these active devices (one index probe each). */
  inventoriesOf(deviceIds: string[]): Promise<DeviceInventory[]> {
    if (deviceIds.length === 0) return Promise.resolve([]);
    return this.db.$queryRaw<DeviceInventory[]>`SELECT d.id AS "deviceId", s.data FROM "Device" d
      JOIN LATERAL (SELECT data FROM "InventorySnapshot" WHERE "deviceId" = d.id ORDER BY "receivedAt" DESC LIMIT 1) s ON true
      WHERE d.state = 'active' AND d.id = ANY(${deviceIds}::text[])`;
  }

  /** A page of active devices (keyset on id) with their latest inventory, for whole-fleet recomputes. */
  inventoryPage(afterDeviceId: string | null, limit: number): Promise<DeviceInventory[]> {
    return this.db.$queryRaw<DeviceInventory[]>`SELECT d.id AS "deviceId", s.data FROM "Device" d
      JOIN LATERAL (SELECT data FROM "InventorySnapshot" WHERE "deviceId" = d.id ORDER BY "receivedAt" DESC LIMIT 1) s ON true
      WHERE d.state = 'active' AND (${afterDeviceId}::text IS NULL OR d.id > ${afterDeviceId}::text)
      ORDER BY d.id LIMIT ${limit}`;
  }

  /**
   * Upsert many rows in one statement: column arrays through unnest (one round trip, one plan, no per-row
   * Prisma calls). A device revoked or deleted meanwhile is skipped by the join.
   */
  async upsert(rows: CompatRow[], computedAt = new Date()): Promise<number> {
    if (rows.length === 0) return 0;
    // One lock order for every writer (replicas, the debounced flush and an approval's batches): no deadlocks.
    rows = [...rows].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0));
    const col = <K extends keyof CompatRow>(k: K) => rows.map((r) => r[k]);
    this.totals.clear();
    const written = await this.db.$executeRaw`INSERT INTO "DeviceCompatibility" ("deviceId", "entryId", "class", "gpuLayers", "totalLayers", "hardwareClass", "reason", "plan", "computedAt")
      SELECT u.d, u.e, u.c, u.g, u.t, u.h, u.r, u.p::jsonb, ${computedAt}
      FROM unnest(${col("deviceId")}::text[], ${col("entryId")}::text[], ${col("class")}::text[], ${col("gpuLayers")}::int[], ${col("totalLayers")}::int[],
                  ${col("hardwareClass")}::text[], ${col("reason")}::text[], ${rows.map((r) => (r.plan === null ? null : JSON.stringify(r.plan)))}::text[])
        AS u(d, e, c, g, t, h, r, p)
      JOIN "Device" dev ON dev.id = u.d
      JOIN "CatalogEntry" ce ON ce.id = u.e
      ON CONFLICT ("deviceId", "entryId") DO UPDATE SET "class" = EXCLUDED."class", "gpuLayers" = EXCLUDED."gpuLayers", "totalLayers" = EXCLUDED."totalLayers",
        "hardwareClass" = EXCLUDED."hardwareClass", "reason" = EXCLUDED."reason", "plan" = EXCLUDED."plan", "computedAt" = EXCLUDED."computedAt"`;
    this.totals.clear(); // a count that ran during the write may have missed it
    return written;
  }

  /** A page of the matrix and its total (compatibility-matrix.sql.ts), side by side on two pool connections; the total per filter is reused for a few seconds. */
  async matrix(f: MatrixFilter): Promise<{ items: MatrixRow[]; total: number }> {
    const page = matrixPageSql(f);
    const count = matrixCountSql(f);
    const key = JSON.stringify([f.entryId ?? null, f.hardwareClass ?? null, f.group ?? null, f.class ?? null, f.deviceId ?? null]);
    const [items, total] = await Promise.all([
      this.db.$queryRawUnsafe<MatrixRow[]>(page.text, ...page.values),
      this.totals.get(key, async () => (await this.db.$queryRawUnsafe<{ n: number }[]>(count.text, ...count.values))[0]!.n),
    ]);
    return { items, total };
  }

  async summary(entryId: string): Promise<{ hardwareClass: string; class: string; count: number }[]> {
    const rows = await this.db.deviceCompatibility.groupBy({ by: ["hardwareClass", "class"], where: { entryId, device: { state: "active" } }, _count: { _all: true }, orderBy: [{ hardwareClass: "asc" }, { class: "asc" }] });
    return rows.map((r) => ({ hardwareClass: r.hardwareClass, class: r.class, count: r._count._all }));
  }

  /** Approved or deprecated entries with these bytes (the ones that have compatibility rows). */
  async entryIdsBySha256(sha256: string): Promise<string[]> {
    const rows = await this.db.catalogEntry.findMany({ where: { sha256, state: { in: ["approved", "deprecated"] } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  entryTarget(entryId: string): Promise<{ id: string; targetPath: string } | null> {
    return this.db.catalogEntry.findUnique({ where: { id: entryId }, select: { id: true, targetPath: true } });
  }

  /** Record (or refresh) that a runtime cannot load an entry; audited. */
  async recordIncompatibility(input: { entryId: string; runtimeKey: string; reason: string; deviceId: string | null; action?: string }): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.runtimeIncompatibility.upsert({
        where: { entryId_runtimeKey: { entryId: input.entryId, runtimeKey: input.runtimeKey } },
        create: { entryId: input.entryId, runtimeKey: input.runtimeKey, reason: input.reason, deviceId: input.deviceId },
        update: { reason: input.reason, deviceId: input.deviceId, learnedAt: new Date() },
      });
      await this.audit.record(
        { actor: input.deviceId ? `device:${input.deviceId}` : "system", action: input.action ?? "catalog.runtime_incompatible", targetType: "catalog_entry", targetId: input.entryId, details: { runtimeKey: input.runtimeKey, reason: input.reason } },
        tx,
      );
    });
  }
}
