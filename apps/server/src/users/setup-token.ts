import { createHash, randomBytes } from "node:crypto";

/** Setup links are valid for 24 hours and once. */
export const SETUP_TOKEN_TTL_MS = 24 * 3600_000;

/** A new setup secret (32 random bytes, base64url), the hash the database keeps, and its expiry. */
export function newSetupToken(now = new Date()): { token: string; tokenHash: string; expiresAt: Date } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashSetupToken(token), expiresAt: new Date(now.getTime() + SETUP_TOKEN_TTL_MS) };
}

export function hashSetupToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function setupUrl(consoleUrl: string, token: string): string {
  return `${consoleUrl.replace(/\/+$/, "")}/setup?token=${encodeURIComponent(token)}`;
}
