import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time check of an Authorization header against the expected token (hashes equalise lengths). */
export function checkBearer(header: string | undefined, expected: string | null): boolean {
  if (!expected || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!), digest(expected));
}
