import { Injectable } from "@nestjs/common";
import { ErrorCode, type TAuthMeV1, type TAuthSessionV1, type TLoginRequestV1, type TSetupRequestV1 } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { AppError } from "../common/app-error.js";
import { UsersRepository, type UserRow } from "../users/users.repository.js";
import { hashSetupToken } from "../users/setup-token.js";
import { LoginThrottleService } from "./login-throttle.service.js";
import { hashPassword, verifyPassword } from "./password.js";
import type { Principal } from "./principal.js";
import { SessionService, toUserView } from "./session.service.js";

const INVALID = "invalid email or password";

/** Sign-in with a password, the one-time setup link, sign-out and "who am I". */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionService,
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditRepository,
  ) {}

  async login(req: TLoginRequestV1, ip: string): Promise<TAuthSessionV1> {
    await this.throttle.assertAllowed(req.email, ip);
    const user = await this.users.findByEmail(req.email);
    // unknown, not set up and disabled accounts still cost one argon2 verification and get the same answer
    const usable = user && !user.disabled && user.passwordHash ? user : null;
    const ok = await verifyPassword(usable?.passwordHash ?? null, req.password);
    if (!ok || !usable) {
      await this.throttle.recordFailure(req.email, ip);
      throw new AppError(ErrorCode.InvalidCredentials, INVALID);
    }
    await this.throttle.recordSuccess(req.email);
    return this.startSession(usable, "password", ip);
  }

  async setup(req: TSetupRequestV1, ip: string): Promise<TAuthSessionV1> {
    const passwordHash = await hashPassword(req.password);
    const result = await this.users.consumeSetupToken(hashSetupToken(req.token), passwordHash, new Date());
    if ("refused" in result) {
      await this.audit.countInBucket({ actor: "anonymous", action: "auth.setup_refused", reason: result.refused, bucketSec: 300, sample: { ip } });
      const why = { unknown: "this setup link is not valid", used: "this setup link was already used", expired: "this setup link has expired", disabled: "this account is disabled" }[result.refused];
      throw new AppError(ErrorCode.Unauthorized, `${why}; ask an admin for a new one`);
    }
    return this.startSession(result.user, "setup", ip);
  }

  /** A session for a user who proved who they are (password, setup link or OIDC). */
  async startSession(user: UserRow, via: string, ip: string): Promise<TAuthSessionV1> {
    const { token, expiresAt } = await this.sessions.issue(user, via);
    const now = new Date();
    await this.users.touchLogin(user.id, now);
    await this.audit.record({ actor: `user:${user.email}`, action: "auth.login", targetType: "user", targetId: user.id, details: { via, ip } });
    return { token, expiresAt: expiresAt.toISOString(), user: toUserView(user) };
  }

  async logout(principal: Principal): Promise<void> {
    if (principal.kind !== "session") throw new AppError(ErrorCode.ValidationFailed, "sign-out needs a session token (the admin token is not a session)");
    await this.sessions.revoke(principal);
  }

  me(principal: Principal): TAuthMeV1 {
    if (principal.kind === "session") {
      return { user: { id: principal.userId, email: principal.email, name: principal.name, role: principal.role }, expiresAt: principal.expiresAt.toISOString() };
    }
    return { user: { id: "admin-token", email: "admin-token", name: "Admin token", role: "admin" }, expiresAt: null };
  }
}
