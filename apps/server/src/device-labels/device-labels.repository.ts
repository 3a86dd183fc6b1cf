import { Inject, Injectable } from "@nestjs/common";
import type { TDeviceLabelsV1 } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

@Injectable()
export class DeviceLabelsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  /** Replace the labels of a device and audit it in one transaction; false when there is no such device. */
  async replace(id: string, labels: TDeviceLabelsV1, actor: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.device.updateMany({ where: { id }, data: { labels } });
      if (count === 0) return false;
      await this.audit.record({ actor, action: "device.labels", targetType: "device", targetId: id, details: { labels } }, tx);
      return true;
    });
  }
}
