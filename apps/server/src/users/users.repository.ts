import { Inject, Injectable } from "@nestjs/common";
import type { TUserRole } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  role: TUserRole;
  passwordHash: string | null;
  disabled: boolean;
  oidcIssuer: string | null;
  oidcSubject: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/** Console users and their one-time setup tokens. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  findByEmail(email: string): Promise<UserRow | null> {
    return this.db.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<UserRow | null> {
    return this.db.user.findUnique({ where: { id } });
  }

  findByOidc(issuer: string, subject: string): Promise<UserRow | null> {
    return this.db.user.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: issuer, oidcSubject: subject } } });
  }

  list(): Promise<UserRow[]> {
    return this.db.user.findMany({ orderBy: { email: "asc" } });
  }

  count(): Promise<number> {
    return this.db.user.count();
  }

  countActiveAdmins(): Promise<number> {
    return this.db.user.count({ where: { role: "admin", disabled: false } });
  }

  /** A new user and (for password users) its first setup token, audited, in one transaction. */
  async create(input: { email: string; name: string | null; role: TUserRole; setup: { tokenHash: string; expiresAt: Date } | null; actor: string }): Promise<UserRow> {
    return this.db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: input.email, name: input.name, role: input.role } });
      if (input.setup) await tx.userSetupToken.create({ data: { userId: user.id, tokenHash: input.setup.tokenHash, expiresAt: input.setup.expiresAt } });
      await tx.auditLog.create({ data: { actor: input.actor, action: "user.created", targetType: "user", targetId: user.id, details: { email: user.email, role: user.role } } });
      return user;
    });
  }

  /** Sign-in through OIDC: the user of (issuer, subject), created or updated with the mapped role and email. */
  async upsertOidc(input: { issuer: string; subject: string; email: string; name: string | null; role: TUserRole }): Promise<UserRow> {
    return this.db.$transaction(async (tx) => {
      const existing = await tx.user.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: input.issuer, oidcSubject: input.subject } } });
      if (existing) {
        if (existing.role === input.role && existing.email === input.email) return existing;
        const updated = await tx.user.update({ where: { id: existing.id }, data: { role: input.role, email: input.email, name: input.name ?? existing.name } });
        await tx.auditLog.create({ data: { actor: `oidc:${input.issuer}`, action: "user.oidc_updated", targetType: "user", targetId: existing.id, details: { email: input.email, role: input.role, previousRole: existing.role } } });
        return updated;
      }
      const user = await tx.user.create({ data: { email: input.email, name: input.name, role: input.role, oidcIssuer: input.issuer, oidcSubject: input.subject } });
      await tx.auditLog.create({ data: { actor: `oidc:${input.issuer}`, action: "user.created", targetType: "user", targetId: user.id, details: { email: user.email, role: user.role, via: "oidc" } } });
      return user;
    });
  }

  async update(id: string, patch: { role?: TUserRole; disabled?: boolean }, actor: string): Promise<UserRow> {
    return this.db.$transaction(async (tx) => {
      const user = await tx.user.update({ where: { id }, data: patch });
      // a disabled user or a changed role signs in again: its open sessions end now
      await tx.session.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date() } });
      await tx.auditLog.create({ data: { actor, action: "user.updated", targetType: "user", targetId: id, details: { ...patch } } });
      return user;
    });
  }

  async addSetupToken(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.userSetupToken.create({ data: { userId, tokenHash, expiresAt } });
  }

  /**
   * Use a setup token once: marks it used and sets the password hash, in one transaction; null when the token is
   * unknown, used or expired (the conditional update makes two concurrent uses impossible).
   */
  async consumeSetupToken(tokenHash: string, passwordHash: string, now: Date): Promise<{ user: UserRow } | { refused: "unknown" | "used" | "expired" | "disabled" }> {
    return this.db.$transaction(async (tx) => {
      const token = await tx.userSetupToken.findUnique({ where: { tokenHash }, include: { user: true } });
      if (!token) return { refused: "unknown" as const };
      if (token.usedAt) return { refused: "used" as const };
      if (token.expiresAt <= now) return { refused: "expired" as const };
      if (token.user.disabled) return { refused: "disabled" as const };
      const claimed = await tx.userSetupToken.updateMany({ where: { id: token.id, usedAt: null }, data: { usedAt: now } });
      if (claimed.count !== 1) return { refused: "used" as const };
      const user = await tx.user.update({ where: { id: token.userId }, data: { passwordHash } });
      await tx.auditLog.create({ data: { actor: `user:${user.email}`, action: "user.password_set", targetType: "user", targetId: user.id } });
      return { user };
    });
  }

  async touchLogin(id: string, at: Date): Promise<void> {
    await this.db.user.update({ where: { id }, data: { lastLoginAt: at } });
  }
}
