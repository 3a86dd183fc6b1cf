import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Provider from "oidc-provider";
import type { NatsConnection } from "nats";
import type { Browser } from "playwright-core";
import { ZFleetEventV1, type TFleetEventV1 } from "@fleet/protocol";
import { freePort, waitFor } from "@fleet/test-utils";
import type { FleetServer } from "../../server/src/app.js";
import { heartbeatBody, inventoryBody, modelsBody } from "./fixtures.js";
import { REPO, createUser, enrollDevice, reportPublisher, screenshot, signIn, startStack, type Stack, type TestUser } from "./harness.js";

// Live updates end to end: server -> socket.io /events -> the console's SSE route -> EventSource in
// Chromium -> router.refresh(), with devices enrolled and reporting over the real API and JetStream.

const ADMIN_TOKEN = `console-live-${randomUUID()}`;
const HEARTBEAT_MS = 300;

let server: FleetServer;
let nc: NatsConnection;
let stack: Stack | undefined;
let consoleUrl: string;
let browser: Browser;
/** websocket connections the server holds right now (the console holds ONE, shared by all its SSE clients) */
let upstreamSockets = 0;
let viewer: TestUser;
const MAX_STREAMS = 3;

async function newReportingDevice(hostname: string) {
  const { enrolled, privateKey } = await enrollDevice(server.url, ADMIN_TOKEN, hostname);
  return { id: enrolled.deviceId, ...reportPublisher(nc, enrolled, privateKey) };
}

/** Read a raw SSE response until `until` says enough (or the time runs out); returns the text. */
async function readStream(res: Response, until: (text: string) => boolean, ms = 10_000): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (!until(text)) {
    if (Date.now() > deadline) throw new Error(`stream did not deliver in ${ms} ms; got:\n${text}`);
    const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
    if (chunk === null) continue;
    if (chunk.done) break;
    text += dec.decode(chunk.value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

const dataEvents = (text: string): TFleetEventV1[] =>
  text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => ZFleetEventV1.parse(JSON.parse(block.slice("data: ".length))));

// The same stack also signs in through single sign-on: a real oidc-provider (dev login/consent screens) whose
// group claim the server maps to a role (one stack per file keeps the browser tests' time down).
const OIDC_GROUPS: Record<string, string[]> = { olivia: ["fleet-ops", "staff"] };
let idp: Server | undefined;

async function startIdp(consoleUrl: string): Promise<string> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "fleetwise", client_secret: "console-e2e-client-secret", redirect_uris: [`${consoleUrl}/auth/oidc/callback`], grant_types: ["authorization_code"], response_types: ["code"] }],
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@corp.test`, name: id, groups: OIDC_GROUPS[id] ?? [] }) };
    },
    claims: { openid: ["sub"], email: ["email"], profile: ["name"], groups: ["groups"] },
    cookies: { keys: ["console-e2e-oidc-cookie-key"] },
    features: { devInteractions: { enabled: true } },
  });
  idp = await new Promise<Server>((resolve) => {
    const s = provider.listen(port) as Server;
    s.once("listening", () => resolve(s));
  });
  return issuer;
}

describe("live fleet updates in a real browser", () => {
  beforeAll(async () => {
    const consolePort = await freePort();
    const issuer = await startIdp(`http://127.0.0.1:${consolePort}`);
    stack = await startStack({
      consolePort,
      serverEnv: {
        FLEET_CONSOLE_URL: `http://127.0.0.1:${consolePort}`,
        FLEET_OIDC_ISSUER: issuer,
        FLEET_OIDC_CLIENT_ID: "fleetwise",
        FLEET_OIDC_CLIENT_SECRET: "console-e2e-client-secret",
        FLEET_OIDC_ROLE_MAP: "fleet-admins=admin,fleet-ops=operator,fleet-viewers=viewer",
        FLEET_OIDC_LABEL: "Corp SSO",
      },
      adminToken: ADMIN_TOKEN,
      consoleEnv: { FLEET_EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS), FLEET_CONSOLE_MAX_STREAMS: String(MAX_STREAMS) },
      onServer: (srv) => {
        // Observe only: count upgraded (websocket) connections, so a test can see the upstream close.
        srv.app.getHttpServer().on("upgrade", (_req: unknown, socket: Socket) => {
          upstreamSockets++;
          socket.once("close", () => upstreamSockets--);
        });
      },
    });
    ({ server, nc, browser, consoleUrl } = stack);
    viewer = await createUser(server.url, ADMIN_TOKEN, "viewer");
  }, 240_000);

  const withSession = () => ({ cookie: `fleet_session=${viewer.session.token}` });

  afterAll(async () => {
    await stack?.close();
    await new Promise((r) => (idp ? idp.close(r) : r(undefined)));
  });

  it("signs in with SSO at a real OIDC provider; the group claim becomes the role", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${consoleUrl}/devices?status=online`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByRole("button", { name: "Sign in with SSO (Corp SSO)" }).click();
    // the provider's own login and consent screens
    await page.locator('input[name="login"]').fill("olivia");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    await page.waitForURL(`${consoleUrl}/devices?status=online`);
    expect(await page.getByTestId("user-role").innerText()).toBe("operator");
    const cookie = (await page.context().cookies()).find((c) => c.name === "fleet_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    await screenshot(page, "signed-in-with-sso");
    // a callback without this browser's transaction cookie is refused (login CSRF)
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(`${consoleUrl}/auth/oidc/callback?code=x&state=y`);
    await stranger.waitForURL(/\/login\?error=oidc_expired/);
    await stranger.getByText("The single sign-on attempt expired").waitFor();
    await stranger.context().close();
    await page.context().close();
  });

  it("shows a newly enrolled, reporting device on /devices without a reload, and says it is live", async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, viewer, "/devices");
    await page.waitForURL(`${consoleUrl}/devices`);
    await page.locator('[data-live="live"]', { hasText: "Live" }).waitFor({ timeout: 10_000 });
    // A marker on window survives router.refresh() but not a reload or navigation.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    expect(await page.locator("tbody tr").count()).toBe(0);

    const hostname = `ws-live-${randomUUID().slice(0, 6)}`;
    const t0 = Date.now();
    const dev = await newReportingDevice(hostname);
    await dev.publish("inventory", inventoryBody(hostname));
    await dev.publish("models", modelsBody());
    await dev.publish("heartbeat", heartbeatBody());

    const row = page.locator("tbody tr", { hasText: hostname });
    await row.waitFor({ timeout: 5_000 });
    await waitFor(async () => (await row.innerText()).includes("Online") && (await row.innerText()).includes("81f226c6"), "row to show the reports", 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(await page.locator('[data-live="live"]').innerText()).toBe("Live");
    await screenshot(page, "devices-live");
    await page.context().close();
    // the console's ONE upstream stays (shared); it is not one per page
    expect(upstreamSockets).toBe(1);
  });

  it("two real agents (in-process AgentService, enrolled with one-time tokens) appear online on /devices without a reload", async () => {
    // test/support is the cross-app e2e's helper; a computed specifier keeps the console's typecheck out of the agent's sources
    const supportPath = path.join(REPO, "test/support/localAgent.ts");
    const { startLocalAgent } = (await import(/* @vite-ignore */ supportPath)) as {
      startLocalAgent(o: { serverUrl: string; token: string; hostname?: string }): Promise<{ state: { deviceId: string }; dispose(): Promise<void> }>;
    };
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, viewer, "/devices?q=ws-agent-");
    await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    const token = async () => {
      const r = await fetch(`${server.url}/api/v1/enrollment-tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ ttlSeconds: 600, note: "console e2e real agent" }),
      });
      return ((await r.json()) as { token: string }).token;
    };
    const tag = randomUUID().slice(0, 4);
    const agents = await Promise.all(["a", "b"].map(async (n) => startLocalAgent({ serverUrl: server.url, token: await token(), hostname: `ws-agent-${n}-${tag}` })));
    try {
      for (const n of ["a", "b"]) {
        const row = page.locator("tbody tr", { hasText: `ws-agent-${n}-${tag}` });
        await row.waitFor({ timeout: 20_000 });
        await waitFor(async () => (await row.innerText()).includes("Online") && (await row.innerText()).includes("81f226c6"), `agent ${n} online with its model`, 20_000);
      }
      expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
      await screenshot(page, "devices-real-agents");
    } finally {
      await Promise.all(agents.map((a) => a.dispose()));
      await page.context().close();
    }
  });

  it("on a device page, refreshes for that device and lists its rejected reports", async () => {
    const hostname = `ws-live-dev-${randomUUID().slice(0, 6)}`;
    const dev = await newReportingDevice(hostname);
    await dev.publish("inventory", inventoryBody(hostname));
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, viewer, `/devices/${dev.id}`);
    await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("main").innerText()).toContain("no heartbeat yet");

    await dev.publish("heartbeat", heartbeatBody());
    await page.getByText("queue 0").waitFor({ timeout: 5_000 });

    await dev.publishRaw("heartbeat", "not a signed report");
    const alert = page.getByRole("alert", { name: "Rejected reports" });
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.innerText()).toContain("malformed");
    await screenshot(page, "device-live");
    await page.context().close();
  });

  it("relays validated events as SSE over ONE shared upstream, per session cookie, with a cap on open streams", async () => {
    // no cookie, or a cookie the server refuses: 401 before any stream opens
    expect((await fetch(`${consoleUrl}/api/events`)).status).toBe(401);
    expect((await fetch(`${consoleUrl}/api/events`, { headers: { cookie: "fleet_session=forged" } })).status).toBe(401);

    const ctrl = new AbortController();
    const res = await fetch(`${consoleUrl}/api/events`, { signal: ctrl.signal, headers: withSession() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-transform");

    const hostname = `ws-live-sse-${randomUUID().slice(0, 6)}`;
    const dev = await newReportingDevice(hostname);
    await dev.publish("heartbeat", heartbeatBody());
    const text = await readStream(res, (t) => dataEvents(t).some((e) => e.type === "device.reported") && (t.match(/^: heartbeat$/gm)?.length ?? 0) >= 2);

    expect(text.startsWith("retry: ")).toBe(true);
    const events = dataEvents(text);
    expect(events.find((e) => e.type === "device.enrolled")).toMatchObject({ deviceId: dev.id, data: { hostname } });
    expect(events.find((e) => e.type === "device.reported")).toMatchObject({ deviceId: dev.id, data: { kind: "heartbeat" } });
    expect(text).not.toContain(ADMIN_TOKEN);

    // A device-scoped stream relays only that device's events, over the same upstream socket.
    const scoped = new AbortController();
    const mine = await fetch(`${consoleUrl}/api/events?deviceId=${dev.id}`, { signal: scoped.signal, headers: withSession() });
    const stranger = await newReportingDevice(`ws-live-other-${randomUUID().slice(0, 6)}`);
    await stranger.publish("heartbeat", heartbeatBody());
    await dev.publish("heartbeat", heartbeatBody());
    const scopedText = await readStream(mine, (t) => dataEvents(t).some((e) => e.type === "device.reported"));
    expect(dataEvents(scopedText).length).toBeGreaterThan(0);
    expect(dataEvents(scopedText).every((e) => e.deviceId === dev.id)).toBe(true);
    expect(upstreamSockets).toBe(1);

    // the cap: with MAX_STREAMS open, the next is refused with 503 until one closes
    const extra = Array.from({ length: MAX_STREAMS - 2 }, () => new AbortController());
    for (const c of extra) expect((await fetch(`${consoleUrl}/api/events`, { signal: c.signal, headers: withSession() })).status).toBe(200);
    const over = await fetch(`${consoleUrl}/api/events`, { headers: withSession() });
    expect(over.status).toBe(503);
    expect(await over.json()).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("too many open live streams") } });
    ctrl.abort();
    await waitFor(async () => {
      const again = await fetch(`${consoleUrl}/api/events`, { headers: withSession(), signal: AbortSignal.timeout(2_000) }).catch(() => null);
      if (again?.status === 200) {
        await again.body?.cancel();
        return true;
      }
      return false;
    }, "a place under the cap after a stream closed", 5_000);
    scoped.abort();
    extra.forEach((c) => c.abort());
    expect(upstreamSockets).toBe(1);

    const other = await fetch(`${consoleUrl}/api/events?deviceId=..%2Fx`, { headers: withSession() });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
