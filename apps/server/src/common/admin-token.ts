import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time check of a bearer header against the admin token (hashing first equalises lengths). */
export function isAdminBearer(header: unknown, adminToken: string): boolean {
  if (typeof header !== "string") return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const presented = m?.[1] ?? "";
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(adminToken).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}
