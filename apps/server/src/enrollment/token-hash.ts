import { createHash, randomBytes } from "node:crypto";

/** A new one-time enrollment secret: 32 random bytes, base64url (43 chars). */
export function newEnrollmentSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** What the database keeps instead of the secret. */
export function hashEnrollmentSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Device ids are random, subject-safe and not guessable from the hostname. */
export function newDeviceId(): string {
  return `dev_${randomBytes(12).toString("base64url")}`;
}
