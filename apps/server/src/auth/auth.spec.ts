import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestMethod } from "@nestjs/common";
import { METHOD_METADATA, PATH_METADATA } from "@nestjs/common/constants.js";
import { ModulesContainer, Reflector } from "@nestjs/core";
import { MIN_ROLE, PUBLIC_ROUTE } from "../common/auth-metadata.js";
import type { TAuthMeV1, TAuthSessionV1, TUserListV1 } from "@fleet/protocol";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { createSignedInUser } from "../testing/auth-helpers.js";
import { runCli } from "../cli.js";
import { io, type Socket } from "socket.io-client";
import { SessionService } from "./session.service.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ FLEET_LOGIN_MAX_FAILURES: "3", FLEET_LOGIN_LOCKOUT_SEC: "60", FLEET_CONSOLE_URL: "https://console.example.test", FLEET_WS_SESSION_RECHECK_SEC: "1" });
});
afterAll(async () => {
  await t?.close();
});

const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(t.url + p, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("sign-in, sessions and roles", () => {
  it("setup link: argon2id hash, one-time, expiring; login answers one error for unknown user and wrong password", async () => {
    const u = await createSignedInUser(t.url, t.admin, "operator", "ana@example.com");
    expect(u.session.user).toMatchObject({ email: "ana@example.com", role: "operator" });
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: "ana@example.com" } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);

    // the link works once
    const again = await post("/api/v1/auth/setup", { token: u.setupToken, password: "another long password" });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already used/);

    // an expired link is refused
    const created = await t.admin("/api/v1/users", { method: "POST", body: JSON.stringify({ email: "late@example.com", role: "viewer" }) });
    const { setupUrl } = (await created.json()) as { setupUrl: string };
    expect(setupUrl).toMatch(/^https:\/\/console\.example\.test\/setup\?token=/);
    await t.db.prisma.userSetupToken.updateMany({ where: { user: { email: "late@example.com" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const late = await post("/api/v1/auth/setup", { token: new URL(setupUrl).searchParams.get("token"), password: "a long enough password" });
    expect(late.status).toBe(401);
    expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(/expired/);

    const ok = await post("/api/v1/auth/login", { email: "ANA@example.com", password: u.password });
    expect(ok.status).toBe(200);
    const s = (await ok.json()) as TAuthSessionV1;
    expect(Date.parse(s.expiresAt) - Date.now()).toBeGreaterThan(11 * 3600_000);

    const wrong = await post("/api/v1/auth/login", { email: "ana@example.com", password: "wrong password!" });
    const unknown = await post("/api/v1/auth/login", { email: "nobody@example.com", password: "wrong password!" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.json()).toEqual(await unknown.json());
    expect(((await (await post("/api/v1/auth/login", { email: "x@example.com", password: "p" })).json()) as { error: { code: string } }).error.code).toBe("invalid_credentials");
  });

  it("locks an account after repeated failures: 429 too_many_attempts with Retry-After, even with the right password; audited", async () => {
    const u = await createSignedInUser(t.url, t.admin, "viewer", "bob@example.com");
    for (let i = 0; i < 3; i++) expect((await post("/api/v1/auth/login", { email: u.email, password: "not the password" })).status).toBe(401);
    const locked = await post("/api/v1/auth/login", { email: u.email, password: u.password });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(50);
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe("too_many_attempts");
    const audited = await t.db.prisma.auditLog.findMany({ where: { action: { in: ["auth.login_failed", "auth.login_throttled"] }, targetId: u.email } });
    expect(audited.map((a) => a.action).sort()).toEqual(["auth.login_failed", "auth.login_throttled"]);
  });

  it("me, sign-out revokes server-side, expiry ends a session", async () => {
    const u = await createSignedInUser(t.url, t.admin, "viewer", "cy@example.com");
    const me = (await (await u.as("/api/v1/auth/me")).json()) as TAuthMeV1;
    expect(me.user).toMatchObject({ email: "cy@example.com", role: "viewer" });
    expect((await u.as("/api/v1/auth/logout", { method: "POST" })).status).toBe(204);
    const after = await u.as("/api/v1/devices");
    expect(after.status).toBe(401);

    const v = await createSignedInUser(t.url, t.admin, "viewer", "dee@example.com");
    expect((await v.as("/api/v1/devices")).status).toBe(200);
    await t.db.prisma.session.updateMany({ where: { user: { email: "dee@example.com" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await v.as("/api/v1/devices")).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/devices`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged" } })).status).toBe(401);
  });

  it("roles: viewer reads only, operator acts on devices but not users; disabling a user ends its sessions; the last admin stays", async () => {
    const viewer = await createSignedInUser(t.url, t.admin, "viewer");
    const operator = await createSignedInUser(t.url, t.admin, "operator");
    const admin = await createSignedInUser(t.url, t.admin, "admin");
    const forbidden = await viewer.as("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 60 }) });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    expect((await viewer.as("/api/v1/users")).status).toBe(403);
    expect((await operator.as("/api/v1/users", { method: "POST", body: JSON.stringify({ email: "x@example.com", role: "admin" }) })).status).toBe(403);
    // operator may set labels (404: no such device, past the role check)
    expect((await operator.as("/api/v1/devices/dev_nope/labels", { method: "PUT", body: JSON.stringify({ group: "a" }) })).status).toBe(404);
    expect((await viewer.as("/api/v1/devices/dev_nope/labels", { method: "PUT", body: JSON.stringify({ group: "a" }) })).status).toBe(403);
    const list = (await (await admin.as("/api/v1/users")).json()) as TUserListV1;
    expect(list.items.find((i) => i.id === viewer.user.id)).toMatchObject({ role: "viewer", passwordSet: true, disabled: false });

    expect((await admin.as(`/api/v1/users/${viewer.user.id}`, { method: "PATCH", body: JSON.stringify({ disabled: true }) })).status).toBe(200);
    expect((await viewer.as("/api/v1/devices")).status).toBe(401);
    expect((await post("/api/v1/auth/login", { email: viewer.email, password: viewer.password })).status).toBe(401);

    // demoting every admin is refused at the last one
    const admins = (await t.db.prisma.user.findMany({ where: { role: "admin", disabled: false } })).map((a) => a.id);
    const last = admins.pop()!;
    for (const id of admins) await t.admin(`/api/v1/users/${id}`, { method: "PATCH", body: JSON.stringify({ role: "viewer" }) });
    const refused = await t.admin(`/api/v1/users/${last}`, { method: "PATCH", body: JSON.stringify({ role: "operator" }) });
    expect(refused.status).toBe(409);
  });
});

describe("rate-limit exemption", () => {
  it("recognises only tokens this server signed and that are not expired (signed-in users share the console's address)", async () => {
    const sessions = t.server.app.get(SessionService);
    const u = await createSignedInUser(t.url, t.admin, "viewer");
    expect(sessions.isSignedSessionToken(u.token)).toBe(true);
    const [h, p, sig] = u.token.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "someone-else" })).toString("base64url");
    expect(sessions.isSignedSessionToken(`${h}.${forgedPayload}.${sig}`)).toBe(false);
    expect(sessions.isSignedSessionToken("not.a.token")).toBe(false);
  });
});

describe("websocket sessions", () => {
  const connect = (token: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = io(`${t.url}/events`, { auth: { token }, transports: ["websocket"], reconnection: false });
      s.on("connect", () => resolve(s));
      s.on("connect_error", reject);
    });
  const ended = (s: Socket) => new Promise<{ reason: string }>((resolve) => s.on("session.ended", resolve));
  const closed = (s: Socket) => new Promise<string>((resolve) => s.on("disconnect", resolve));

  it("a signed-out session's socket is closed at once; a disabled user's within the re-check; a bad token gets the reason", async () => {
    const v = await createSignedInUser(t.url, t.admin, "viewer");
    const s = await connect(v.token);
    const [why, gone] = [ended(s), closed(s)];
    expect((await v.as("/api/v1/auth/logout", { method: "POST" })).status).toBe(204);
    expect(await why).toEqual({ reason: "signed out" });
    expect(await gone).toBe("io server disconnect");

    const w = await createSignedInUser(t.url, t.admin, "viewer");
    const s2 = await connect(w.token);
    const [why2, gone2] = [ended(s2), closed(s2)];
    expect((await t.admin(`/api/v1/users/${w.user.id}`, { method: "PATCH", body: JSON.stringify({ disabled: true }) })).status).toBe(200);
    expect(await why2).toEqual({ reason: "session expired or revoked" });
    await gone2;

    const err = await connect(v.token).then(
      (sock) => (sock.close(), null),
      (e: Error & { data?: { reason: string } }) => e,
    );
    expect(err?.message).toBe("unauthorized");
    expect(err?.data?.reason).toMatch(/signed-out/);
  });
});

describe("fleet-server user", () => {
  it("create prints a one-time setup link that signs in; list shows the user; --if-no-users creates nothing when users exist", async () => {
    let printed = "";
    const env = { DATABASE_URL: t.db.url, FLEET_CONSOLE_URL: "http://console.test:3000/" };
    const code = await runCli(["user", "create", "--email", "Root@Example.com", "--role", "admin", "--name", "Root"], { env, out: (s) => (printed += s) });
    expect(code).toBe(0);
    const link = /setup link: (\S+)/.exec(printed)![1]!;
    expect(link).toMatch(/^http:\/\/console\.test:3000\/setup\?token=[A-Za-z0-9_-]{43}$/);
    const setup = await post("/api/v1/auth/setup", { token: new URL(link).searchParams.get("token"), password: "root password 123" });
    expect(setup.status).toBe(200);
    expect(((await setup.json()) as TAuthSessionV1).user).toMatchObject({ email: "root@example.com", role: "admin", name: "Root" });

    printed = "";
    expect(await runCli(["user", "list"], { env, out: (s) => (printed += s) })).toBe(0);
    expect(printed).toMatch(/root@example\.com\s+admin\s+active/);
    printed = "";
    expect(await runCli(["user", "create", "--email", "second@example.com", "--role", "admin", "--if-no-users"], { env, out: (s) => (printed += s) })).toBe(0);
    expect(printed).toMatch(/none created/);
    expect(await runCli(["user", "create", "--email", "x@example.com", "--role", "root"], { env, out: () => undefined, err: () => undefined })).toBe(2);
  });
});

describe("every registered route", () => {
  it("declares its role when it is a mutation (no route can be forgotten), and the contract's roles hold", () => {
    const reflector = new Reflector();
    const routes: { route: string; role: string | undefined; isPublic: boolean }[] = [];
    for (const mod of t.server.app.get(ModulesContainer).values()) {
      for (const wrapper of mod.controllers.values()) {
        const ctrl = wrapper.metatype as (new (...a: never[]) => object) | null;
        if (!ctrl) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, ctrl) ?? "");
        for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
          const fn = (ctrl.prototype as Record<string, unknown>)[name];
          if (name === "constructor" || typeof fn !== "function") continue;
          const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
          if (method === undefined) continue;
          const route = `${RequestMethod[method]} /${[base, String(Reflect.getMetadata(PATH_METADATA, fn) ?? "")].filter((x) => x && x !== "/").join("/")}`;
          const targets = [fn as () => void, ctrl];
          routes.push({ route, role: reflector.getAllAndOverride<string>(MIN_ROLE, targets), isPublic: !!reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) });
        }
      }
    }
    expect(routes.length).toBeGreaterThan(40);
    const unannotated = routes.filter((r) => !r.isPublic && !r.role && !r.route.startsWith("GET ")).map((r) => r.route);
    expect(unannotated, "mutation routes without @Roles(...) or @Public()").toEqual([]);
    const roleOf = (route: string) => routes.find((r) => r.route === route)?.role;
    for (const r of ["POST /api/v1/rollouts", "POST /api/v1/rollouts/:id/pause", "POST /api/v1/rollouts/:id/rollback", "POST /api/v1/devices/:id/benchmarks", "PUT /api/v1/devices/:id/labels"]) expect(roleOf(r), r).toBe("operator");
    for (const r of ["POST /api/v1/catalog/:id/approve", "POST /api/v1/catalog/import", "POST /api/v1/users", "PATCH /api/v1/users/:id", "POST /api/v1/enrollment-tokens", "PUT /api/v1/compliance/policies/:id"]) expect(roleOf(r), r).toBe("admin");
  });
});
