import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

/** Failed sign-in counters per key ("account:<email>", "ip:<address>") and the locks they earned. */
@Injectable()
export class LoginThrottleRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** The latest lock end among the keys, if any is still locked at `now`. */
  async lockedUntil(keys: string[], now: Date): Promise<Date | null> {
    const rows = await this.db.loginThrottle.findMany({ where: { key: { in: keys }, lockedUntil: { gt: now } }, select: { lockedUntil: true } });
    const ends = rows.map((r) => r.lockedUntil!.getTime());
    return ends.length ? new Date(Math.max(...ends)) : null;
  }

  /**
   * Count one failure atomically (a window older than `windowMs` starts over) and return the failures in the window.
   * One upsert statement, so concurrent failures on several instances all count.
   */
  async addFailure(key: string, now: Date, windowMs: number): Promise<number> {
    const windowStart = new Date(now.getTime() - windowMs);
    const rows = await this.db.$queryRaw<{ failures: number }[]>`
      INSERT INTO "LoginThrottle" (key, failures, "windowStart") VALUES (${key}, 1, ${now})
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN "LoginThrottle"."windowStart" < ${windowStart} THEN 1 ELSE "LoginThrottle".failures + 1 END,
        "windowStart" = CASE WHEN "LoginThrottle"."windowStart" < ${windowStart} THEN ${now} ELSE "LoginThrottle"."windowStart" END
      RETURNING failures`;
    return Number(rows[0]?.failures ?? 1);
  }

  async lock(key: string, until: Date): Promise<void> {
    await this.db.loginThrottle.update({ where: { key }, data: { lockedUntil: until } });
  }

  async clear(key: string): Promise<void> {
    await this.db.loginThrottle.deleteMany({ where: { key } });
  }
}
