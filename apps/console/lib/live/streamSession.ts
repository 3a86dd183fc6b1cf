import "server-only";
import { ZAuthMeV1 } from "@fleet/protocol";
import { ServerError } from "../api-errors";
import { consoleEnv } from "../env";

// Each browser stream is authenticated with its user's session cookie, checked with the server's /auth/me.
// Answers are cached briefly so a page with several tabs, or the heartbeat re-checks, do not hit the server each time.
const TTL_MS = 30_000;
const MAX_ENTRIES = 5_000;
const cache = new Map<string, { ok: boolean; until: number }>();

export async function sessionIsValid(token: string): Promise<boolean> {
  const now = Date.now();
  const hit = cache.get(token);
  if (hit && hit.until > now) return hit.ok;
  const res = await fetch(`${consoleEnv().FLEET_SERVER_URL}/api/v1/auth/me`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    cache: "no-store",
    signal: AbortSignal.timeout(5_000),
  });
  let ok: boolean;
  if (res.status === 401 || res.status === 403) ok = false;
  else if (res.ok) ok = ZAuthMeV1.safeParse(await res.json()).success;
  else throw new ServerError(res.status, `http_${res.status}`, "could not check the session");
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(token, { ok, until: now + TTL_MS });
  return ok;
}
