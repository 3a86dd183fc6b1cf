import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { NO_BITMAP_SCANS } from "../reports/reports.repository.js";

@Injectable()
export class DeviceKeyRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** The public JWK of an active device, or null (unknown or revoked). */
  async activePublicJwk(deviceId: string): Promise<unknown | null> {
    const d = await this.db.device.findFirst({ where: { id: deviceId, state: "active" }, select: { publicKeyJwk: true } });
    return d?.publicKeyJwk ?? null;
  }

  /** The public JWKs of those of `ids` that are active devices, in one query (ingest: a batch's uncached devices). */
  async activePublicJwks(ids: string[]): Promise<{ id: string; publicKeyJwk: unknown }[]> {
    if (!ids.length) return [];
    // by primary key, not a bitmap scan of the trigram GIN index on id (NO_BITMAP_SCANS, reports.repository.ts)
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(NO_BITMAP_SCANS);
        return tx.$queryRaw<{ id: string; publicKeyJwk: unknown }[]>`SELECT id, "publicKeyJwk" FROM "Device" WHERE id = ANY(${ids}::text[]) AND state = 'active'`;
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  }
}
