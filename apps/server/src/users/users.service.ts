import { Inject, Injectable } from "@nestjs/common";
import { ErrorCode, type TCreatedUserV1, type TCreateUserRequestV1, type TUpdateUserRequestV1, type TUserDetailV1 } from "@fleet/protocol";
import { AppError, NotFoundError } from "../common/app-error.js";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { isUniqueViolation } from "../common/prisma.js";
import { newSetupToken, setupUrl } from "./setup-token.js";
import { UsersRepository, type UserRow } from "./users.repository.js";

/** Users admin: create (with a one-time setup link), list, change role, disable. Used by REST and the CLI. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    @Inject(CONFIG) private readonly config: { auth: Pick<ServerConfig["auth"], "consoleUrl"> },
  ) {}

  async create(req: TCreateUserRequestV1, actor: string): Promise<TCreatedUserV1> {
    const setup = newSetupToken();
    try {
      const user = await this.users.create({ email: req.email, name: req.name ?? null, role: req.role, setup, actor });
      return { user: toUserDetail(user), setupUrl: setupUrl(this.config.auth.consoleUrl, setup.token) };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.Conflict, `a user with email ${req.email} already exists`);
      throw err;
    }
  }

  async list(): Promise<TUserDetailV1[]> {
    return (await this.users.list()).map(toUserDetail);
  }

  async update(id: string, patch: TUpdateUserRequestV1, actor: string): Promise<TUserDetailV1> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundError("user", id);
    const losesAdmin = user.role === "admin" && !user.disabled && ((patch.role !== undefined && patch.role !== "admin") || patch.disabled === true);
    if (losesAdmin && (await this.users.countActiveAdmins()) <= 1) {
      throw new AppError(ErrorCode.Conflict, "this is the last active admin; make another admin first");
    }
    return toUserDetail(await this.users.update(id, { role: patch.role, disabled: patch.disabled }, actor));
  }

  /** A new setup link for an existing password user (lost link, expired). */
  async newSetupLink(email: string): Promise<string> {
    const user = await this.users.findByEmail(email);
    if (!user) throw new NotFoundError("user", email);
    const setup = newSetupToken();
    await this.users.addSetupToken(user.id, setup.tokenHash, setup.expiresAt);
    return setupUrl(this.config.auth.consoleUrl, setup.token);
  }
}

export function toUserDetail(u: UserRow): TUserDetailV1 {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    disabled: u.disabled,
    signIn: u.oidcSubject ? "oidc" : "password",
    passwordSet: u.passwordHash !== null,
    createdAt: u.createdAt.toISOString(),
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  };
}
