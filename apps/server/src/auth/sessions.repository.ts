import { Inject, Injectable } from "@nestjs/common";
import type { TUserRole } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export interface ActiveSession {
  jti: string;
  expiresAt: Date;
  revokedAt: Date | null;
  user: { id: string; email: string; name: string | null; role: TUserRole; disabled: boolean };
}

/** Session rows: the server-side half of every session JWT (revocation, expiry). */
@Injectable()
export class SessionsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async create(input: { jti: string; userId: string; expiresAt: Date; via: string }): Promise<void> {
    // the user's sessions that ended over a week ago go as a new one starts: the table stays small without a sweeper
    const longGone = new Date(Date.now() - 7 * 86_400_000);
    await this.db.$transaction([
      this.db.session.deleteMany({ where: { userId: input.userId, expiresAt: { lt: longGone } } }),
      this.db.session.create({ data: input }),
    ]);
  }

  find(jti: string): Promise<ActiveSession | null> {
    return this.db.session.findUnique({
      where: { jti },
      select: { jti: true, expiresAt: true, revokedAt: true, user: { select: { id: true, email: true, name: true, role: true, disabled: true } } },
    });
  }

  /** jtis of the given ones that are no longer valid (revoked, expired, missing, user disabled). */
  async invalidOf(jtis: string[], now: Date): Promise<Set<string>> {
    if (jtis.length === 0) return new Set();
    const valid = await this.db.session.findMany({
      where: { jti: { in: jtis }, revokedAt: null, expiresAt: { gt: now }, user: { disabled: false } },
      select: { jti: true },
    });
    const ok = new Set(valid.map((v) => v.jti));
    return new Set(jtis.filter((j) => !ok.has(j)));
  }

  async revoke(jti: string, actor: string): Promise<void> {
    await this.db.$transaction([
      this.db.session.updateMany({ where: { jti, revokedAt: null }, data: { revokedAt: new Date() } }),
      this.db.auditLog.create({ data: { actor, action: "auth.logout", targetType: "session", targetId: jti } }),
    ]);
  }
}
