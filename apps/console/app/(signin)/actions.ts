"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { ZAuthSessionV1, ZLoginRequestV1, ZOidcStartV1, ZSetupRequestV1, formatIssues } from "@fleet/protocol";
import { call, clientAddressHeaders } from "../../lib/api";
import { ServerError } from "../../lib/api-errors";
import { describeError, formatWait } from "../../lib/describeError";
import { safeNextPath } from "../../lib/safeNext";
import { clearSessionCookie, consoleOrigin, sessionToken, setOidcTxCookie, setSessionCookie } from "../../lib/sessionCookie";

// Sign-in, setup and sign-out run as server actions: Next only accepts them from this console's own
// Origin (CSRF), and the session token goes straight from the server's answer into the httpOnly cookie.

export type AuthFormState = { status: "idle" } | { status: "error"; message: string; email?: string };

const field = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === "string" ? v : "";
};

function refusal(e: unknown): AuthFormState {
  if (e instanceof ServerError && e.status === 401) return { status: "error", message: "Wrong email or password." };
  if (e instanceof ServerError && e.status === 429) {
    return { status: "error", message: `Too many failed sign-in attempts. Try again in ${formatWait(e.retryAfterSeconds ?? 60)}.` };
  }
  const d = describeError(e);
  return { status: "error", message: `${d.title}: ${d.message}` };
}

export async function loginAction(_prev: AuthFormState, form: FormData): Promise<AuthFormState> {
  const body = ZLoginRequestV1.safeParse({ email: field(form, "email"), password: field(form, "password") });
  if (!body.success) return { status: "error", message: "Enter your email address and password.", email: field(form, "email") };
  let session;
  try {
    session = await call("/api/v1/auth/login", ZAuthSessionV1, { method: "POST", body: body.data, auth: false, headers: await clientAddressHeaders() });
  } catch (e) {
    // keep the email in the form (React resets it after the action); never the password
    return { ...refusal(e), email: body.data.email } as AuthFormState;
  }
  await setSessionCookie(session);
  redirect(safeNextPath(field(form, "next")));
}

export async function setupAction(_prev: AuthFormState, form: FormData): Promise<AuthFormState> {
  const password = field(form, "password");
  if (password !== field(form, "confirm")) return { status: "error", message: "The two passwords differ." };
  const body = ZSetupRequestV1.safeParse({ token: field(form, "token"), password });
  if (!body.success) return { status: "error", message: formatIssues(body.error) };
  let session;
  try {
    session = await call("/api/v1/auth/setup", ZAuthSessionV1, { method: "POST", body: body.data, auth: false, headers: await clientAddressHeaders() });
  } catch (e) {
    if (e instanceof ServerError && e.status === 401) return { status: "error", message: "This setup link is unknown, already used or expired. Ask an admin for a new one." };
    return refusal(e);
  }
  await setSessionCookie(session);
  redirect("/");
}

export async function signOutAction(): Promise<void> {
  if (await sessionToken()) {
    try {
      await call("/api/v1/auth/logout", z.undefined(), { method: "POST", onUnauthorized: "throw" });
    } catch (e) {
      // an already ended session is signed out anyway; anything else must not keep the cookie either
      if (!(e instanceof ServerError && e.status === 401)) console.error("sign-out: the server did not revoke the session", e);
    }
  }
  await clearSessionCookie();
  redirect("/login");
}

/** Start single sign-on: the server builds the authorization URL (PKCE); the transaction is bound to this browser. */
export async function oidcStartAction(form: FormData): Promise<void> {
  const next = safeNextPath(field(form, "next"));
  const redirectUri = `${await consoleOrigin()}/auth/oidc/callback`;
  const started = await call("/api/v1/auth/oidc/start", ZOidcStartV1, { method: "POST", body: { redirectUri }, auth: false });
  await setOidcTxCookie(JSON.stringify({ id: started.transactionId, next }));
  redirect(started.authorizationUrl);
}
