import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

@Injectable()
export class NatsIdentityRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** NATS user keys of revoked devices, with the time of their last change (at or after the revocation). */
  async revokedUserKeys(): Promise<{ natsUserKey: string; updatedAt: Date }[]> {
    const rows = await this.db.device.findMany({ where: { state: "revoked", natsUserKey: { not: null } }, select: { natsUserKey: true, updatedAt: true } });
    return rows.map((r) => ({ natsUserKey: r.natsUserKey!, updatedAt: r.updatedAt }));
  }

  async activeDeviceIds(): Promise<string[]> {
    const rows = await this.db.device.findMany({ where: { state: "active" }, select: { id: true } });
    return rows.map((r) => r.id);
  }
}
