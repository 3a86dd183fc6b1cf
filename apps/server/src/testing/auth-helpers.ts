import type { TAuthSessionV1, TCreatedUserV1, TUserRole } from "@fleet/protocol";

type AdminFetch = (p: string, init?: RequestInit) => Promise<Response>;

/** A user made through the real users API and set up through its one-time link: a signed-in session. */
export async function createSignedInUser(baseUrl: string, admin: AdminFetch, role: TUserRole, email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`, password = "correct horse battery staple") {
  const created = await admin("/api/v1/users", { method: "POST", body: JSON.stringify({ email, role }) });
  if (created.status !== 201) throw new Error(`user create: ${created.status} ${await created.text()}`);
  const { user, setupUrl } = (await created.json()) as TCreatedUserV1;
  const setupToken = new URL(setupUrl!).searchParams.get("token")!;
  const setup = await fetch(`${baseUrl}/api/v1/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: setupToken, password }) });
  if (setup.status !== 200) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
  const session = (await setup.json()) as TAuthSessionV1;
  const as = (p: string, init: RequestInit = {}) =>
    fetch(baseUrl + p, { ...init, headers: { authorization: `Bearer ${session.token}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) } });
  return { user, email, password, setupToken, session, token: session.token, as };
}
