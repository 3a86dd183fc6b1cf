import type { Metadata } from "next";
import { ZOidcInfoV1, type TOidcInfoV1 } from "@fleet/protocol";
import { call } from "../../../lib/api";
import { safeNextPath } from "../../../lib/safeNext";
import { oidcStartAction } from "../actions";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Sign in" };

const OIDC_ERRORS: Record<string, string> = {
  oidc: "Single sign-on failed. Try again, or sign in with your password.",
  oidc_expired: "The single sign-on attempt expired. Try again.",
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const next = safeNextPath(typeof sp.next === "string" ? sp.next : null);
  const error = typeof sp.error === "string" ? OIDC_ERRORS[sp.error] : undefined;
  let oidc: TOidcInfoV1 = { enabled: false, label: "" };
  try {
    oidc = await call("/api/v1/auth/oidc", ZOidcInfoV1, { auth: false });
  } catch {
    // the password form works without it; an unreachable server shows up when signing in
  }
  return (
    <section className="panel signin">
      <h1>Sign in to Fleetwise</h1>
      {error ? (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      ) : null}
      <LoginForm next={next} />
      {oidc.enabled ? (
        <form action={oidcStartAction} className="sso">
          <input type="hidden" name="next" value={next} />
          <button type="submit" className="secondary">
            Sign in with SSO{oidc.label ? ` (${oidc.label})` : ""}
          </button>
        </form>
      ) : null}
    </section>
  );
}
