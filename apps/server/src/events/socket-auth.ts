import { createHash, timingSafeEqual } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import { bearerOf } from "../auth/principal.js";
import type { SessionService } from "../auth/session.service.js";

const sameSecret = (a: string, b: string) => timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/** A websocket handshake's credentials (other than the admin token): FLEET_EVENTS_TOKEN or a live session token. */
export async function authenticateSocket(
  bearer: unknown,
  eventsToken: string | null,
  sessions: Pick<SessionService, "verify">,
): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
  const token = bearerOf(bearer);
  if (!token) return { ok: false, reason: "missing token: pass auth: { token } (session token or events token)" };
  if (eventsToken && sameSecret(token, eventsToken)) return { ok: true, principal: { kind: "events-token", role: "viewer", actor: "console-events" } };
  const principal = await sessions.verify(token);
  if (!principal) return { ok: false, reason: "invalid, expired or signed-out session token" };
  return { ok: true, principal };
}
