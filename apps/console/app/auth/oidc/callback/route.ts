import { cookies } from "next/headers";
import { NextResponse } from "next/server";
import { z } from "zod";
import { ZAuthSessionV1 } from "@fleet/protocol";
import { call } from "../../../../lib/api";
import { logLine } from "../../../../lib/logLine";
import { safeNextPath } from "../../../../lib/safeNext";
import { OIDC_TX_COOKIE, consoleOrigin, setSessionCookie } from "../../../../lib/sessionCookie";

export const dynamic = "force-dynamic";

const ZTx = z.object({ id: z.string().min(1).max(200), next: z.string() });

// The identity provider sends the browser back here. Only the browser that started the sign-in holds the
// transaction cookie, so a callback URL planted by someone else cannot sign this browser in (login CSRF);
// the server exchanges the code (PKCE, state, nonce) and maps the group claim to a role.
export async function GET(request: Request): Promise<Response> {
  const origin = await consoleOrigin();
  const jar = await cookies();
  const raw = jar.get(OIDC_TX_COOKIE)?.value;
  jar.delete({ name: OIDC_TX_COOKIE, path: "/auth/oidc" });
  let tx;
  try {
    tx = ZTx.parse(JSON.parse(raw ?? ""));
  } catch {
    return NextResponse.redirect(new URL("/login?error=oidc_expired", origin));
  }
  const incoming = new URL(request.url);
  const callbackUrl = `${origin}/auth/oidc/callback${incoming.search}`;
  try {
    const session = await call("/api/v1/auth/oidc/callback", ZAuthSessionV1, { method: "POST", body: { transactionId: tx.id, callbackUrl }, auth: false });
    await setSessionCookie(session);
  } catch (e) {
    logLine("warn", "oidc sign-in refused", { reason: e instanceof Error ? e.message : String(e) });
    return NextResponse.redirect(new URL("/login?error=oidc", origin));
  }
  return NextResponse.redirect(new URL(safeNextPath(tx.next), origin));
}
