import "server-only";
import { cookies, headers } from "next/headers";
import type { TAuthSessionV1 } from "@fleet/protocol";
import { consoleEnv } from "./env";

/** The console's own cookie holding the server's session token (never readable by page scripts). */
export const SESSION_COOKIE = "fleet_session";
/** Short-lived cookie binding an OIDC sign-in to the browser that started it. */
export const OIDC_TX_COOKIE = "fleet_oidc_tx";

export async function sessionToken(): Promise<string | null> {
  return (await cookies()).get(SESSION_COOKIE)?.value || null;
}

/** The console's public origin: FLEET_CONSOLE_URL, else the request's Host and forwarded protocol. */
export async function consoleOrigin(): Promise<string> {
  const configured = consoleEnv().FLEET_CONSOLE_URL;
  if (configured) return configured;
  const h = await headers();
  const proto = h.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https" ? "https" : "http";
  return `${proto}://${h.get("x-forwarded-host") ?? h.get("host") ?? "127.0.0.1"}`;
}

async function secure(): Promise<boolean> {
  return (await consoleOrigin()).startsWith("https:");
}

/** Store a session: httpOnly, SameSite=Lax, Secure over https, expiring with the session. */
export async function setSessionCookie(session: Pick<TAuthSessionV1, "token" | "expiresAt">): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: "lax",
    secure: await secure(),
    path: "/",
    expires: new Date(session.expiresAt),
  });
}

export async function clearSessionCookie(): Promise<void> {
  (await cookies()).delete(SESSION_COOKIE);
}

export async function setOidcTxCookie(value: string): Promise<void> {
  (await cookies()).set(OIDC_TX_COOKIE, value, { httpOnly: true, sameSite: "lax", secure: await secure(), path: "/auth/oidc", maxAge: 600 });
}
