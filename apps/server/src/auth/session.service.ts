import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { Inject, Injectable, type OnModuleInit } from "@nestjs/common";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { TUserV1 } from "@fleet/protocol";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { Principal } from "./principal.js";
import { loadOrCreateSessionSecret } from "./session-secret.js";
import { SessionsRepository, type ActiveSession } from "./sessions.repository.js";

const ISSUER = "fleetwise";
const AUDIENCE = "fleet-console";

export type SessionPrincipal = Extract<Principal, { kind: "session" }>;

/**
 * Session tokens: an HS256 JWT (jose) whose jti names a Session row. The signature makes forgery impossible, the row
 * makes sign-out, disabling a user and expiry take effect at once on every replica.
 */
@Injectable()
export class SessionService implements OnModuleInit {
  private secret: Promise<Uint8Array> | null = null;
  private loadedSecret: Uint8Array | null = null;
  private readonly revokedListeners = new Set<(jti: string) => void>();

  constructor(
    @Inject(CONFIG) private readonly config: ServerConfig,
    private readonly sessions: SessionsRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.loadedSecret = await this.key();
  }

  /**
   * Synchronous check that a bearer is a session token this server signed and that has not expired (no database
   * look-up: revocation is the AuthGuard's job). The REST rate limit uses it to exempt signed-in users, who all come
   * through the console's one address.
   */
  isSignedSessionToken(token: string): boolean {
    const parts = token.split(".");
    if (!this.loadedSecret || parts.length !== 3) return false;
    const expected = createHmac("sha256", this.loadedSecret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    try {
      const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: string };
      const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { exp?: number; aud?: string };
      return header.alg === "HS256" && payload.aud === AUDIENCE && typeof payload.exp === "number" && payload.exp * 1000 > Date.now();
    } catch {
      return false;
    }
  }

  private key(): Promise<Uint8Array> {
    return (this.secret ??= loadOrCreateSessionSecret(this.config.auth.sessionSecret, this.config.dataDir));
  }

  async issue(user: { id: string }, via: string): Promise<{ token: string; expiresAt: Date }> {
    const jti = randomUUID();
    const expiresAt = new Date(Date.now() + this.config.auth.sessionTtlSec * 1000);
    await this.sessions.create({ jti, userId: user.id, expiresAt, via });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.key());
    return { token, expiresAt };
  }

  /** The principal of a session token, or null if it is forged, expired, revoked or its user is disabled. */
  async verify(token: string): Promise<SessionPrincipal | null> {
    let jti: string | undefined;
    let sub: string | undefined;
    try {
      const { payload } = await jwtVerify(token, await this.key(), { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] });
      jti = payload.jti;
      sub = payload.sub;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
    if (!jti || !sub) return null;
    const row = await this.sessions.find(jti);
    if (!row || !isLive(row, new Date()) || row.user.id !== sub) return null;
    return { kind: "session", role: row.user.role, actor: `user:${row.user.email}`, userId: row.user.id, email: row.user.email, name: row.user.name, jti, expiresAt: row.expiresAt };
  }

  async revoke(principal: SessionPrincipal): Promise<void> {
    await this.sessions.revoke(principal.jti, principal.actor);
    for (const fn of this.revokedListeners) fn(principal.jti);
  }

  /** Which of these jtis stopped being valid (for open websockets). */
  invalidOf(jtis: string[]): Promise<Set<string>> {
    return this.sessions.invalidOf(jtis, new Date());
  }

  /** Called on this instance's sign-outs (the websocket closes that session's sockets at once). */
  onRevoked(fn: (jti: string) => void): () => void {
    this.revokedListeners.add(fn);
    return () => this.revokedListeners.delete(fn);
  }
}

function isLive(row: ActiveSession, now: Date): boolean {
  return row.revokedAt === null && row.expiresAt > now && !row.user.disabled;
}

export function toUserView(u: { id: string; email: string; name: string | null; role: TUserV1["role"] }): TUserV1 {
  return { id: u.id, email: u.email, name: u.name, role: u.role };
}
