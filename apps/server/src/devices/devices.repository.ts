import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import type { TDeviceListQueryV1 } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { AuditRepository } from "../audit/audit.repository.js";
import { deviceCountSql, devicePageSql, isSplitSort, type SqlStatement } from "./devices-list.sql.js";
import { LIST_TOTAL_TTL_MS, TotalsCache } from "./totals-cache.js";

export const summaryInclude = {
  inventorySnapshots: { orderBy: { receivedAt: "desc" }, take: 1, include: { gpus: { orderBy: { index: "asc" } } } },
  installedModels: { where: { removedAt: null }, orderBy: { fileName: "asc" } },
  memoryPressureFlags: { orderBy: { lastSeenAt: "desc" }, take: 20 },
  liveness: { select: { lastSeenAt: true } },
} satisfies Prisma.DeviceInclude;

export type DeviceWithSummary = Prisma.DeviceGetPayload<{ include: typeof summaryInclude }>;

/** What a list row needs (the detail's Prisma row has it too). */
export interface DeviceSummaryRow {
  id: string;
  hostname: string;
  state: string;
  enrolledAt: Date;
  lastSeenAt: Date | null;
  agentVersion: string | null;
  inventorySnapshots: { cpuBrand: string; cpuCores: number; ramTotalBytes: bigint; osName: string; gpus: { vendor: string; model: string; vramBytes: bigint | null }[] }[];
  installedModels: { fileName: string; sha256: string; architecture: string | null; quantization: string | null }[];
  memoryPressureFlags: { modelId: string; sha256: string | null; reason: string; lastSeenAt: Date }[];
}

/** A row of devicePageSql as the driver returns it (bigint columns may come as bigint or string; JSON parsed). */
interface PageRow {
  id: string;
  hostname: string;
  state: string;
  enrolledAt: Date;
  lastSeenAt: Date | null;
  agentVersion: string | null;
  cpuBrand: string | null;
  cpuCores: number | null;
  ramTotalBytes: bigint | string | number | null;
  osName: string | null;
  gpus: { vendor: string; model: string; vramBytes: number | null }[];
  models: DeviceSummaryRow["installedModels"];
  flags: { modelId: string; sha256: string | null; reason: string; lastSeenAt: string }[];
}

/** An ingest transaction holding the device's row may take up to its 30 s statement timeout: a revocation waits as long. */
const REVOKE_TX = { timeout: 35_000, maxWait: 10_000 };

@Injectable()
export class DevicesRepository {
  /** list totals per filter (sort and page do not change them) */
  private readonly totals = new TotalsCache(LIST_TOTAL_TTL_MS);

  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * A page of the list and the total, as raw SQL (devices-list.sql.ts): one statement for the page with its
   * relations, one for the count, run side by side on two pool connections (each statement sees its own snapshot,
   * as it did in Prisma's READ COMMITTED batch). The total is counted once per filter and reused for a few seconds
   * (TotalsCache): paging through a filter does not count the fleet again on every page.
   */
  async list(query: TDeviceListQueryV1, cutoff: Date): Promise<{ rows: DeviceSummaryRow[]; total: number }> {
    const offset = (query.page - 1) * query.pageSize;
    const key = JSON.stringify([query.status ?? null, query.q ?? null, query.gpuVendor ?? null, query.modelSha256 ?? null]);
    const [rows, total] = await Promise.all([this.pageRows(query, cutoff, offset), this.totals.get(key, () => this.count(deviceCountSql(query, cutoff)))]);
    return { rows, total };
  }

  /** The fleet changed (a device enrolled or was revoked): count again. */
  forgetTotals(): void {
    this.totals.clear();
  }

  private async pageRows(query: TDeviceListQueryV1, cutoff: Date, offset: number): Promise<DeviceSummaryRow[]> {
    if (!isSplitSort(query)) return this.page(devicePageSql(query, cutoff, "all", query.pageSize, offset));
    // lastSeenAt descending, never-seen devices last: the seen devices in index order, then the never-seen ones
    const seen = await this.page(devicePageSql(query, cutoff, "seen", query.pageSize, offset));
    if (seen.length === query.pageSize) return seen;
    const seenBefore = seen.length > 0 || offset === 0 ? offset + seen.length : await this.count(deviceCountSql(query, cutoff, "seen"));
    const unseen = await this.page(devicePageSql(query, cutoff, "unseen", query.pageSize - seen.length, Math.max(0, offset - seenBefore)));
    return [...seen, ...unseen];
  }

  private async page(sql: SqlStatement): Promise<DeviceSummaryRow[]> {
    const rows = await this.db.$queryRawUnsafe<PageRow[]>(sql.text, ...sql.values);
    return rows.map((r) => ({
      id: r.id,
      hostname: r.hostname,
      state: r.state,
      enrolledAt: r.enrolledAt,
      lastSeenAt: r.lastSeenAt,
      agentVersion: r.agentVersion,
      inventorySnapshots:
        r.cpuBrand === null
          ? []
          : [{ cpuBrand: r.cpuBrand, cpuCores: r.cpuCores!, ramTotalBytes: BigInt(r.ramTotalBytes!), osName: r.osName!, gpus: r.gpus.map((g) => ({ ...g, vramBytes: g.vramBytes === null ? null : BigInt(g.vramBytes) })) }],
      installedModels: r.models,
      memoryPressureFlags: r.flags.map((f) => ({ ...f, lastSeenAt: new Date(f.lastSeenAt) })),
    }));
  }

  private async count(sql: SqlStatement): Promise<number> {
    const [row] = await this.db.$queryRawUnsafe<{ n: number }[]>(sql.text, ...sql.values);
    return row!.n;
  }

  async findDetail(id: string) {
    return this.db.device.findUnique({
      where: { id },
      include: {
        ...summaryInclude,
        inventorySnapshots: { orderBy: { receivedAt: "desc" }, take: 20, include: { gpus: { orderBy: { index: "asc" } } } },
        postureReports: { orderBy: { receivedAt: "desc" }, take: 1 },
        heartbeats: { orderBy: { receivedAt: "desc" }, take: 1 },
      },
    });
  }

  async exists(id: string): Promise<{ id: string; state: string } | null> {
    return this.db.device.findUnique({ where: { id }, select: { id: true, state: true } });
  }

  async inventoryHistory(deviceId: string, limit: number) {
    return this.db.inventorySnapshot.findMany({ where: { deviceId }, orderBy: { receivedAt: "desc" }, take: limit });
  }

  /**
   * Revoke and audit in one transaction; returns false if there is no such device. The row lock waits for an ingest
   * transaction holding the device (REVOKE_TX allows for one).
   */
  async revoke(id: string, actor: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      // FOR UPDATE conflicts with the key-share lock report ingest holds on the devices of a batch being stored: the
      // revocation waits for that commit, and a batch that starts later no longer finds the device active
      await tx.$queryRaw`SELECT 1 FROM "Device" WHERE id = ${id} FOR UPDATE`;
      const res = await tx.device.updateMany({ where: { id }, data: { state: "revoked" } });
      if (res.count === 0) return false;
      await this.audit.record({ actor, action: "device.revoked", targetType: "device", targetId: id }, tx);
      return true;
    }, REVOKE_TX);
  }

  async activeDevicesSeenSince(cutoff: Date): Promise<{ id: string; lastSeenAt: Date }[]> {
    const rows = await this.db.deviceLiveness.findMany({ where: { lastSeenAt: { gte: cutoff }, device: { state: "active" } }, select: { deviceId: true, lastSeenAt: true } });
    return rows.map((r) => ({ id: r.deviceId, lastSeenAt: r.lastSeenAt }));
  }

  /** When these devices were last seen (a device never seen is not listed). */
  async lastSeen(ids: string[]): Promise<{ id: string; lastSeenAt: Date }[]> {
    const rows = await this.db.deviceLiveness.findMany({ where: { deviceId: { in: ids } }, select: { deviceId: true, lastSeenAt: true } });
    return rows.map((r) => ({ id: r.deviceId, lastSeenAt: r.lastSeenAt }));
  }
}
