import { randomUUID } from "node:crypto";
import { Inject, Injectable } from "@nestjs/common";
import * as client from "openid-client";
import { ErrorCode, roleAtLeast, type TAuthSessionV1, type TOidcInfoV1, type TOidcStartV1, type TUserRole } from "@fleet/protocol";
import { AuditRepository } from "../audit/audit.repository.js";
import { AppError } from "../common/app-error.js";
import { CONFIG } from "../common/config.token.js";
import type { OidcConfig, ServerConfig } from "../common/env.js";
import { isUniqueViolation } from "../common/prisma.js";
import { UsersRepository } from "../users/users.repository.js";
import { AuthService } from "./auth.service.js";
import { OidcTransactionsRepository } from "./oidc-transactions.repository.js";

const TRANSACTION_TTL_MS = 10 * 60_000;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The highest role any of the user's groups maps to, or null. */
export function roleForGroups(groups: string[], roleMap: Record<string, TUserRole>): TUserRole | null {
  let best: TUserRole | null = null;
  for (const g of groups) {
    const r = roleMap[g];
    if (r && (!best || roleAtLeast(r, best))) best = r;
  }
  return best;
}

function groupsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * Single sign-on: OpenID Connect authorization code flow with PKCE (S256), state and nonce (openid-client). The
 * transaction lives in PostgreSQL, so any replica can finish it. The configured group claim maps to a role; a user
 * with no mapped group is refused. Users are found by (issuer, subject), created on first sign-in.
 */
@Injectable()
export class OidcService {
  private discovered: Promise<client.Configuration> | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: ServerConfig,
    private readonly transactions: OidcTransactionsRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly audit: AuditRepository,
  ) {}

  info(): TOidcInfoV1 {
    const oidc = this.config.auth.oidc;
    return { enabled: oidc !== null, label: oidc?.label ?? "" };
  }

  private oidc(): OidcConfig {
    const oidc = this.config.auth.oidc;
    if (!oidc) throw new AppError(ErrorCode.NotFound, "single sign-on is not configured on this server (FLEET_OIDC_ISSUER)");
    return oidc;
  }

  private configuration(oidc: OidcConfig): Promise<client.Configuration> {
    this.discovered ??= (async () => {
      const issuer = new URL(oidc.issuer);
      // plain http only to a provider on this machine (tests, local IdP); anything else must be https
      const insecure = issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname);
      const auth = oidc.clientSecret ? client.ClientSecretBasic(oidc.clientSecret) : client.None();
      return client.discovery(issuer, oidc.clientId, undefined, auth, insecure ? { execute: [client.allowInsecureRequests] } : undefined);
    })().catch((err: unknown) => {
      this.discovered = null; // try again on the next sign-in
      throw new AppError(ErrorCode.Unavailable, `the identity provider ${oidc.issuer} could not be reached: ${(err as Error).message}`);
    });
    return this.discovered;
  }

  async start(redirectUri: string): Promise<TOidcStartV1> {
    const oidc = this.oidc();
    if (new URL(redirectUri).origin !== new URL(this.config.auth.consoleUrl).origin) {
      throw new AppError(ErrorCode.ValidationFailed, `redirectUri must be on the console (${this.config.auth.consoleUrl})`);
    }
    const cfg = await this.configuration(oidc);
    const tx = { id: randomUUID(), state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), redirectUri, expiresAt: new Date(Date.now() + TRANSACTION_TTL_MS) };
    await this.transactions.create(tx);
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri,
      scope: oidc.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(tx.codeVerifier),
      code_challenge_method: "S256",
      state: tx.state,
      nonce: tx.nonce,
    });
    return { authorizationUrl: url.href, transactionId: tx.id };
  }

  async callback(transactionId: string, callbackUrl: string, ip: string): Promise<TAuthSessionV1> {
    const oidc = this.oidc();
    const tx = await this.transactions.take(transactionId);
    if (!tx || tx.expiresAt <= new Date()) throw new AppError(ErrorCode.Unauthorized, "this sign-in attempt is unknown, used or expired; start again");
    const url = new URL(callbackUrl);
    if (url.origin + url.pathname !== new URL(tx.redirectUri).origin + new URL(tx.redirectUri).pathname) {
      throw new AppError(ErrorCode.ValidationFailed, "callbackUrl does not match the redirectUri of this sign-in");
    }
    const cfg = await this.configuration(oidc);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(cfg, url, { pkceCodeVerifier: tx.codeVerifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true });
      claims = { ...tokens.claims() };
      if (claims[oidc.groupsClaim] === undefined || claims.email === undefined) {
        // many providers put groups and email only in userinfo
        const info = await client.fetchUserInfo(cfg, tokens.access_token, String(claims.sub));
        claims = { ...info, ...claims, [oidc.groupsClaim]: claims[oidc.groupsClaim] ?? info[oidc.groupsClaim], email: claims.email ?? info.email };
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      await this.refuse(oidc, "provider_error", { ip, error: (err as Error).message });
      throw new AppError(ErrorCode.Unauthorized, `single sign-on failed: ${(err as Error).message}`);
    }
    const subject = String(claims.sub);
    const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : null;
    const groups = groupsOf(claims[oidc.groupsClaim]);
    const role = roleForGroups(groups, oidc.roleMap);
    if (!role) {
      await this.refuse(oidc, "no_mapped_group", { ip, subject, email, groups });
      const known = Object.keys(oidc.roleMap).join(", ") || "(none configured)";
      throw new AppError(ErrorCode.Forbidden, `your groups (${groups.join(", ") || "none"}) give no Fleetwise role; an admin must add you to one of: ${known}`);
    }
    if (!email) {
      await this.refuse(oidc, "no_email", { ip, subject });
      throw new AppError(ErrorCode.Forbidden, "the identity provider did not give an email address (scope email)");
    }
    let user;
    try {
      user = await this.users.upsertOidc({ issuer: oidc.issuer, subject, email, name: typeof claims.name === "string" ? claims.name : null, role });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new AppError(ErrorCode.Conflict, `a password user with email ${email} exists; accounts are not linked by email (an admin can remove or rename it)`);
    }
    if (user.disabled) throw new AppError(ErrorCode.Forbidden, "this account is disabled");
    return this.auth.startSession(user, "oidc", ip);
  }

  private async refuse(oidc: OidcConfig, reason: string, sample: Record<string, unknown>): Promise<void> {
    await this.audit.countInBucket({ actor: `oidc:${oidc.issuer}`, action: "auth.oidc_refused", reason, bucketSec: 300, sample: JSON.parse(JSON.stringify(sample)) as Record<string, string> });
  }
}
