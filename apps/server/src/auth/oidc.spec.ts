import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Provider from "oidc-provider";
import type { TAuthSessionV1, TOidcInfoV1, TOidcStartV1 } from "@fleet/protocol";
import { freePort } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";

// A real OpenID provider (oidc-provider 9) on a free port, with its dev login/consent screens driven by plain fetch.
const CONSOLE = "http://console.test:3000";
const REDIRECT = `${CONSOLE}/auth/oidc/callback`;
const GROUPS: Record<string, string[]> = { alice: ["fleet-admins", "staff"], oscar: ["fleet-ops"], vera: ["fleet-viewers", "fleet-ops"], mallory: ["marketing"] };

let idp: Server;
let issuer: string;
let t: TestServer;

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "fleetwise", client_secret: "fleetwise-test-client-secret", redirect_uris: [REDIRECT], grant_types: ["authorization_code"], response_types: ["code"] }],
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@corp.test`, name: id.toUpperCase(), groups: GROUPS[id] ?? [] }) };
    },
    claims: { openid: ["sub"], email: ["email"], profile: ["name"], groups: ["groups"] },
    cookies: { keys: ["oidc-test-cookie-key"] },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  idp = await new Promise<Server>((resolve) => {
    const s = provider.listen(port) as Server;
    s.once("listening", () => resolve(s));
  });
  t = await startTestServer({
    FLEET_CONSOLE_URL: CONSOLE,
    FLEET_OIDC_ISSUER: issuer,
    FLEET_OIDC_CLIENT_ID: "fleetwise",
    FLEET_OIDC_CLIENT_SECRET: "fleetwise-test-client-secret",
    FLEET_OIDC_ROLE_MAP: "fleet-admins=admin,fleet-ops=operator,fleet-viewers=viewer",
    FLEET_OIDC_LABEL: "Corp SSO",
  });
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => idp?.close(r));
});

/** Browser stand-in: follow the provider's redirects, sign in as `account` and consent, until it sends us back to the console. */
async function signInAtProvider(authorizationUrl: string, account: string): Promise<string> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  let url = authorizationUrl;
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(CONSOLE)) return url;
    const page = await fetch(url, { redirect: "manual", headers: { cookie: cookieHeader() } });
    remember(page);
    const next = page.headers.get("location");
    if (next) {
      url = new URL(next, url).href;
      continue;
    }
    const html = await page.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!prompt) throw new Error(`no interaction form at ${url}: ${page.status} ${html.slice(0, 200)}`);
    const form = new URLSearchParams(prompt === "login" ? { prompt, login: account, password: "any" } : { prompt });
    const submit = await fetch(url, { method: "POST", redirect: "manual", headers: { cookie: cookieHeader(), "content-type": "application/x-www-form-urlencoded" }, body: form });
    remember(submit);
    url = new URL(submit.headers.get("location")!, url).href;
  }
  throw new Error("too many redirects");
}

const post = (p: string, body: unknown) => fetch(t.url + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function oidcSignIn(account: string): Promise<Response> {
  const started = (await (await post("/api/v1/auth/oidc/start", { redirectUri: REDIRECT })).json()) as TOidcStartV1;
  const auth = new URL(started.authorizationUrl);
  expect(auth.searchParams.get("code_challenge_method")).toBe("S256");
  expect(auth.searchParams.get("state")).toBeTruthy();
  expect(auth.searchParams.get("nonce")).toBeTruthy();
  const callbackUrl = await signInAtProvider(started.authorizationUrl, account);
  return post("/api/v1/auth/oidc/callback", { transactionId: started.transactionId, callbackUrl });
}

describe("OIDC sign-in against a real provider", () => {
  it("maps the highest mapped group to the role, upserts by (issuer, subject), and the session works", async () => {
    expect((await (await fetch(`${t.url}/api/v1/auth/oidc`)).json()) as TOidcInfoV1).toEqual({ enabled: true, label: "Corp SSO" });
    const roles: Record<string, string> = {};
    for (const account of ["alice", "oscar", "vera"]) {
      const res = await oidcSignIn(account);
      expect(res.status, account).toBe(200);
      const s = (await res.json()) as TAuthSessionV1;
      expect(s.user.email).toBe(`${account}@corp.test`);
      roles[account] = s.user.role;
      if (account === "oscar") {
        const me = await fetch(`${t.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${s.token}` } });
        expect(((await me.json()) as { user: { role: string } }).user.role).toBe("operator");
      }
    }
    expect(roles).toEqual({ alice: "admin", oscar: "operator", vera: "operator" });
    // a second sign-in finds the same user
    expect((await oidcSignIn("alice")).status).toBe(200);
    const users = await t.db.prisma.user.findMany({ where: { oidcIssuer: issuer } });
    expect(users.map((u) => u.oidcSubject).sort()).toEqual(["alice", "oscar", "vera"]);
  });

  it("refuses a user whose groups map to no role, with the reason; a transaction works once", async () => {
    const res = await oidcSignIn("mallory");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/your groups \(marketing\) give no Fleetwise role/);
    expect(await t.db.prisma.user.count({ where: { email: "mallory@corp.test" } })).toBe(0);

    const started = (await (await post("/api/v1/auth/oidc/start", { redirectUri: REDIRECT })).json()) as TOidcStartV1;
    const callbackUrl = await signInAtProvider(started.authorizationUrl, "oscar");
    expect((await post("/api/v1/auth/oidc/callback", { transactionId: started.transactionId, callbackUrl })).status).toBe(200);
    expect((await post("/api/v1/auth/oidc/callback", { transactionId: started.transactionId, callbackUrl })).status).toBe(401);
    expect((await post("/api/v1/auth/oidc/start", { redirectUri: "https://evil.example/cb" })).status).toBe(400);
  });
});
