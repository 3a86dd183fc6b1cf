import { Inject, Injectable } from "@nestjs/common";
import { ErrorCode } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { AppError } from "../common/app-error.js";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { LoginThrottleRepository } from "./login-throttle.repository.js";

const WINDOW_MS = 15 * 60_000;
const MAX_LOCK_SEC = 15 * 60;

export class TooManyAttemptsError extends AppError {
  override name = "TooManyAttemptsError";
  constructor(retryAfterSec: number) {
    super(ErrorCode.TooManyAttempts, `too many failed sign-in attempts; retry in ${retryAfterSec} s`, { retryAfterSec });
    this.retryAfterSec = retryAfterSec;
  }
}

/**
 * Lockout with backoff, per account and per client address, stored in PostgreSQL (shared by replicas): after
 * `maxFailures` failures within 15 minutes the key is locked for `lockoutSec`, each further failure doubles the lock
 * (at most 15 minutes). A locked attempt is refused before the password is checked, 429 + Retry-After, audited.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(CONFIG) private readonly config: ServerConfig,
    private readonly repo: LoginThrottleRepository,
    private readonly audit: AuditRepository,
  ) {}

  async assertAllowed(email: string, ip: string): Promise<void> {
    const now = new Date();
    const until = await this.repo.lockedUntil([accountKey(email), ipKey(ip)], now);
    if (!until) return;
    const retryAfterSec = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    await this.audit.countInBucket({ actor: "anonymous", action: "auth.login_throttled", reason: "locked", targetType: "user_email", targetId: email, bucketSec: 300, sample: { ip, retryAfterSec } });
    throw new TooManyAttemptsError(retryAfterSec);
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const now = new Date();
    const { maxFailures, ipMaxFailures, lockoutSec } = this.config.auth;
    for (const [key, max] of [[accountKey(email), maxFailures], [ipKey(ip), ipMaxFailures]] as const) {
      const failures = await this.repo.addFailure(key, now, WINDOW_MS);
      if (failures < max) continue;
      const lockSec = Math.min(MAX_LOCK_SEC, lockoutSec * 2 ** Math.min(20, failures - max));
      await this.repo.lock(key, new Date(now.getTime() + lockSec * 1000));
    }
    await this.audit.countInBucket({ actor: "anonymous", action: "auth.login_failed", reason: "invalid_credentials", targetType: "user_email", targetId: email, bucketSec: 300, sample: { ip } });
  }

  /** A successful sign-in clears the account's failures (not the address's: one own account must not reset it). */
  async recordSuccess(email: string): Promise<void> {
    await this.repo.clear(accountKey(email));
  }
}

const accountKey = (email: string) => `account:${email}`;
const ipKey = (ip: string) => `ip:${ip}`;
