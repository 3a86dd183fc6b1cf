import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { AuditRepository } from "../audit/audit.repository.js";
import { REFUSAL_AUDIT_BUCKET_SEC } from "../audit/refusal-audit.js";

export type TokenRefusal = "invalid" | "expired" | "used";

export interface NewDevice {
  id: string;
  hostname: string;
  agentVersion: string;
  publicKeyJwk: Prisma.InputJsonValue;
  publicKeyThumbprint: string;
  /** the device's NATS user nkey, so revoking the device can revoke its NATS user */
  natsUserKey: string | null;
}

@Injectable()
export class EnrollmentRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  async createToken(input: { tokenHash: string; expiresAt: Date; note?: string; actor: string }) {
    return this.db.$transaction(async (tx) => {
      const token = await tx.enrollmentToken.create({
        data: { tokenHash: input.tokenHash, expiresAt: input.expiresAt, note: input.note, createdBy: input.actor },
      });
      await this.audit.record(
        { actor: input.actor, action: "enrollment_token.created", targetType: "enrollment_token", targetId: token.id, details: { expiresAt: token.expiresAt.toISOString(), note: input.note ?? null } },
        tx,
      );
      return token;
    });
  }

  /**
   * Mark the token used and create the device, in one transaction. The conditional UPDATE is the
   * race arbiter: of two concurrent enrolls, the second waits for the first's row lock, then matches nothing.
   */
  /** Why this token cannot enroll a device now (read-only), or null if it could. */
  async tokenRefusal(tokenHash: string, now: Date): Promise<TokenRefusal | null> {
    const token = await this.db.enrollmentToken.findUnique({ where: { tokenHash } });
    return !token ? "invalid" : token.usedAt ? "used" : token.expiresAt <= now ? "expired" : null;
  }

  async consumeTokenAndCreateDevice(tokenHash: string, now: Date, device: NewDevice): Promise<{ ok: true; deviceId: string } | { ok: false; reason: TokenRefusal }> {
    return this.db.$transaction(async (tx) => {
      const claimed = await tx.enrollmentToken.updateMany({
        where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
      });
      if (claimed.count !== 1) {
        const token = await tx.enrollmentToken.findUnique({ where: { tokenHash } });
        const reason: TokenRefusal = !token ? "invalid" : token.usedAt ? "used" : "expired";
        return { ok: false as const, reason };
      }
      const token = await tx.enrollmentToken.findUniqueOrThrow({ where: { tokenHash } });
      await tx.device.create({ data: { ...device, enrollmentTokenId: token.id } });
      await this.audit.record(
        { actor: `device:${device.id}`, action: "device.enrolled", targetType: "device", targetId: device.id, details: { hostname: device.hostname, tokenId: token.id, thumbprint: device.publicKeyThumbprint } },
        tx,
      );
      return { ok: true as const, deviceId: device.id };
    });
  }

  /** Aggregated: one row per reason per hour with a count (a flood of bad tokens cannot grow the audit table). */
  async recordRefusal(reason: string, details: Prisma.InputJsonObject): Promise<void> {
    await this.audit.countInBucket({ actor: "anonymous", action: "enroll.refused", reason, targetType: "enrollment_token", bucketSec: REFUSAL_AUDIT_BUCKET_SEC, sample: details });
  }
}
