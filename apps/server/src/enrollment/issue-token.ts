import type { EnrollmentRepository } from "./enrollment.repository.js";
import { hashEnrollmentSecret, newEnrollmentSecret } from "./token-hash.js";

/** Create a one-time token; shared by the REST route and the CLI so both store and audit it the same way. */
export async function issueEnrollmentToken(repo: EnrollmentRepository, ttlSeconds: number, note: string | undefined, actor: string) {
  const token = newEnrollmentSecret();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const row = await repo.createToken({ tokenHash: hashEnrollmentSecret(token), expiresAt, note, actor });
  return { id: row.id, token, expiresAt: row.expiresAt.toISOString() };
}
