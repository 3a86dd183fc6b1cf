import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

@Injectable()
export class DeviceKeyRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** The public JWK of an active device, or null (unknown or revoked). */
  async activePublicJwk(deviceId: string): Promise<unknown | null> {
    const d = await this.db.device.findFirst({ where: { id: deviceId, state: "active" }, select: { publicKeyJwk: true } });
    return d?.publicKeyJwk ?? null;
  }
}
