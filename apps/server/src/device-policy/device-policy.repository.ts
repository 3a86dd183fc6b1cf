import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { ZDevicePolicySettingsV1, type TConsentV1, type TDevicePolicySettingsV1, type TDevicePolicyV1 } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

/** Row id of the fleet default in DevicePolicySetting; any other id is a device's override. */
export const FLEET_DEFAULT_ID = "fleet";

export interface StoredSetting {
  settings: TDevicePolicySettingsV1;
  updatedAt: Date;
  updatedBy: string;
}

@Injectable()
export class DevicePolicyRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async setting(id: string): Promise<StoredSetting | null> {
    const row = await this.db.devicePolicySetting.findUnique({ where: { id } });
    if (!row) return null;
    // written through the same schema; parsed again so an older row cannot surprise
    const settings = ZDevicePolicySettingsV1.parse({ privacy: row.privacy, resources: row.resources });
    return { settings, updatedAt: row.updatedAt, updatedBy: row.updatedBy };
  }

  async saveSetting(id: string, settings: TDevicePolicySettingsV1, actor: string): Promise<void> {
    const data = { privacy: settings.privacy as Prisma.InputJsonValue, resources: settings.resources as Prisma.InputJsonValue, updatedBy: actor };
    await this.db.devicePolicySetting.upsert({ where: { id }, create: { id, ...data }, update: data });
  }

  async deleteSetting(id: string): Promise<boolean> {
    return (await this.db.devicePolicySetting.deleteMany({ where: { id } })).count > 0;
  }

  async consent(deviceId: string): Promise<TConsentV1 | null> {
    const row = await this.db.remoteFallbackConsent.findUnique({ where: { deviceId } });
    return row ? { grantedBy: row.grantedBy, grantedAt: row.grantedAt.toISOString() } : null;
  }

  async setConsent(deviceId: string, consent: TConsentV1 | null): Promise<void> {
    if (!consent) {
      await this.db.remoteFallbackConsent.deleteMany({ where: { deviceId } });
      return;
    }
    const data = { grantedBy: consent.grantedBy, grantedAt: new Date(consent.grantedAt) };
    await this.db.remoteFallbackConsent.upsert({ where: { deviceId }, create: { deviceId, ...data }, update: data });
  }

  async issued(deviceId: string): Promise<{ version: number; jws: string; policy: TDevicePolicyV1; issuedAt: Date } | null> {
    const row = await this.db.deviceIssuedPolicy.findUnique({ where: { deviceId } });
    return row ? { version: row.version, jws: row.jws, policy: row.policy as unknown as TDevicePolicyV1, issuedAt: row.issuedAt } : null;
  }

  /**
   * Record a newly signed policy, only if its version is higher than the stored one (two servers issuing at once:
   * the later version wins, never goes back). Returns false when a newer one was already stored.
   */
  async saveIssued(deviceId: string, version: number, jws: string, policy: TDevicePolicyV1): Promise<boolean> {
    const data = { version, jws, policy: policy as unknown as Prisma.InputJsonValue, issuedAt: new Date(policy.issuedAt) };
    const updated = await this.db.deviceIssuedPolicy.updateMany({ where: { deviceId, version: { lt: version } }, data });
    if (updated.count > 0) return true;
    try {
      await this.db.deviceIssuedPolicy.create({ data: { deviceId, ...data } });
      return true;
    } catch {
      return false; // a row exists with a version >= ours
    }
  }

  async deviceState(deviceId: string): Promise<string | null> {
    return (await this.db.device.findUnique({ where: { id: deviceId }, select: { state: true } }))?.state ?? null;
  }

  /** Active devices whose policy is missing or was issued before `before` (to renew before it expires). */
  async devicesToIssue(before: Date): Promise<string[]> {
    const rows = await this.db.device.findMany({
      where: { state: "active", OR: [{ issuedPolicy: null }, { issuedPolicy: { issuedAt: { lt: before } } }] },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async activeDeviceIds(): Promise<string[]> {
    return (await this.db.device.findMany({ where: { state: "active" }, select: { id: true } })).map((d) => d.id);
  }
}
