import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import type { TDeviceListQueryV1 } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { AuditRepository } from "../audit/audit.repository.js";

export const summaryInclude = {
  inventorySnapshots: { orderBy: { receivedAt: "desc" }, take: 1, include: { gpus: { orderBy: { index: "asc" } } } },
  installedModels: { where: { removedAt: null }, orderBy: { fileName: "asc" } },
  memoryPressureFlags: { orderBy: { lastSeenAt: "desc" }, take: 20 },
} satisfies Prisma.DeviceInclude;

export type DeviceWithSummary = Prisma.DeviceGetPayload<{ include: typeof summaryInclude }>;

@Injectable()
export class DevicesRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  async list(query: TDeviceListQueryV1, cutoff: Date): Promise<{ rows: DeviceWithSummary[]; total: number }> {
    const and: Prisma.DeviceWhereInput[] = [];
    switch (query.status) {
      case "revoked":
        and.push({ state: "revoked" });
        break;
      case "never_seen":
        and.push({ state: "active", lastSeenAt: null });
        break;
      case "online":
        and.push({ state: "active", lastSeenAt: { gte: cutoff } });
        break;
      case "offline":
        and.push({ state: "active", lastSeenAt: { lt: cutoff } });
        break;
    }
    if (query.q) {
      and.push({ OR: [{ hostname: { contains: query.q, mode: "insensitive" } }, { id: { contains: query.q, mode: "insensitive" } }] });
    }
    if (query.modelSha256) and.push({ installedModels: { some: { sha256: query.modelSha256, removedAt: null } } });
    if (query.gpuVendor) and.push({ id: { in: await this.idsWithCurrentGpuVendor(query.gpuVendor) } });
    const where: Prisma.DeviceWhereInput = { AND: and };
    const [rows, total] = await this.db.$transaction([
      this.db.device.findMany({
        where,
        include: summaryInclude,
        orderBy: deviceOrder(query.sort),
        skip: (query.page - 1) * query.pageSize,
        take: query.pageSize,
      }),
      this.db.device.count({ where }),
    ]);
    return { rows, total };
  }

  /** Devices whose latest inventory lists a GPU of this vendor (old snapshots do not count). */
  private async idsWithCurrentGpuVendor(vendor: string): Promise<string[]> {
    const pattern = `%${vendor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.db.$queryRaw<{ deviceId: string }[]>`
      SELECT DISTINCT g."deviceId" FROM "Gpu" g
      JOIN (SELECT DISTINCT ON ("deviceId") id FROM "InventorySnapshot" ORDER BY "deviceId", "receivedAt" DESC) latest
        ON latest.id = g."snapshotId"
      WHERE g.vendor ILIKE ${pattern}`;
    return rows.map((r) => r.deviceId);
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

  /** Revoke and audit in one transaction; returns false if there is no such device. */
  async revoke(id: string, actor: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const res = await tx.device.updateMany({ where: { id }, data: { state: "revoked" } });
      if (res.count === 0) return false;
      await this.audit.record({ actor, action: "device.revoked", targetType: "device", targetId: id }, tx);
      return true;
    });
  }

  async activeDevicesSeenSince(cutoff: Date): Promise<{ id: string; lastSeenAt: Date | null }[]> {
    return this.db.device.findMany({ where: { state: "active", lastSeenAt: { gte: cutoff } }, select: { id: true, lastSeenAt: true } });
  }

  async lastSeen(ids: string[]): Promise<{ id: string; lastSeenAt: Date | null }[]> {
    return this.db.device.findMany({ where: { id: { in: ids } }, select: { id: true, lastSeenAt: true } });
  }
}

/** ORDER BY for the list's sort (indexed columns: hostname, lastSeenAt, enrolledAt); never-seen devices sort last. */
function deviceOrder(sort: TDeviceListQueryV1["sort"]): Prisma.DeviceOrderByWithRelationInput[] {
  const s = sort ?? "hostname";
  const dir = s.startsWith("-") ? "desc" : "asc";
  const col = s.replace(/^-/, "") as "hostname" | "lastSeenAt" | "enrolledAt";
  if (col === "lastSeenAt") return [{ lastSeenAt: { sort: dir, nulls: "last" } }, { id: "asc" }];
  return [{ [col]: dir }, { id: "asc" }];
}
