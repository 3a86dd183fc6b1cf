import type { TUserRole } from "@fleet/protocol";

/** Who a request (or websocket) acts as, set by the AuthGuard on `req.principal`. */
export type Principal =
  | { kind: "admin-token"; role: "admin"; actor: "admin" }
  | { kind: "session"; role: TUserRole; actor: string; userId: string; email: string; name: string | null; jti: string; expiresAt: Date }
  /** FLEET_EVENTS_TOKEN: the console's shared websocket, read-only, never accepted on REST */
  | { kind: "events-token"; role: "viewer"; actor: "console-events" };

export interface RequestWithPrincipal {
  principal?: Principal;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  ip?: string;
}

/** The bearer token of an Authorization header, or null. */
export function bearerOf(header: unknown): string | null {
  if (typeof header !== "string") return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
