import { randomUUID } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import type { Browser, Page } from "playwright-core";
import { ZDeviceDetailV1 } from "@fleet/protocol";
import { freePort, waitFor, type TestNatsServer } from "@fleet/test-utils";
import type { FleetServer } from "../../server/src/app.js";
import { createUser, enrollDevice, reportPublisher, screenshot, signIn, startConsole as startHarnessConsole, startStack, stopProcess, type Stack, type TestUser } from "./harness.js";
import { benchmarkBody, heartbeatBody, inventoryBody, metricsBody, modelsBody, postureBody, tinyModel } from "./fixtures.js";

// One real-browser pass over the production build (`next build` + `next start`) against a real
// in-process server, real PostgreSQL and a private nats-server, seeded only through the real API.

const ADMIN_TOKEN = `console-e2e-${randomUUID()}`;
const HOSTNAME = `ws-console-${randomUUID().slice(0, 6)}`;
const SILENT_HOSTNAME = `ws-silent-${randomUUID().slice(0, 6)}`;

let nats: TestNatsServer;
let server: FleetServer;
let nc: NatsConnection;
let stack: Stack | undefined;
let consoleUrl: string;
let browser: Browser;
let deviceId: string;
let adminUser: TestUser;
let viewerUser: TestUser;

async function admin(pathname: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${pathname}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function startConsole(serverUrl: string): Promise<{ url: string; proc: ChildProcess }> {
  return startHarnessConsole(serverUrl, null);
}

/** A page in its own browser context, signed in as `who`. */
async function pageAs(who: TestUser, viewport = { width: 1400, height: 900 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await signIn(page, consoleUrl, who);
  return page;
}

function enroll(hostname: string) {
  return enrollDevice(server.url, ADMIN_TOKEN, hostname);
}

async function seedDevice(): Promise<string> {
  const { enrolled, privateKey } = await enroll(HOSTNAME);

  const { publish } = reportPublisher(nc, enrolled, privateKey);
  await publish("inventory", inventoryBody(HOSTNAME));
  await publish("models", modelsBody());
  await publish("posture", postureBody(server.url, nats.url));
  await publish("metrics", metricsBody());
  await publish("benchmark", benchmarkBody());
  await publish("heartbeat", heartbeatBody());

  await waitFor(
    async () => {
      const r = await admin(`/api/v1/devices/${enrolled.deviceId}`);
      const d = ZDeviceDetailV1.safeParse(r.json);
      return d.success && d.data.device.status === "online" && d.data.models.length === 1 && d.data.inventory !== null && d.data.posture !== null;
    },
    "the server to store the seeded reports",
    20_000,
  );
  return enrolled.deviceId;
}

async function visibleText(page: Page): Promise<string> {
  return page.locator("main").innerText();
}

describe("console in a real browser against the real server", () => {
  beforeAll(async () => {
    stack = await startStack({ adminToken: ADMIN_TOKEN });
    ({ nats, server, nc, browser, consoleUrl } = stack);
    [adminUser, viewerUser] = await Promise.all([createUser(server.url, ADMIN_TOKEN, "admin"), createUser(server.url, ADMIN_TOKEN, "viewer")]);
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("sends a visitor without a session to sign-in (keeping only a relative next), refuses a wrong password, then throttles", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${consoleUrl}/devices?status=online`);
    await page.waitForURL(/\/login\?next=/);
    expect(new URL(page.url()).searchParams.get("next")).toBe("/devices?status=online");
    expect(page.url()).not.toContain("user-role");
    const noSession = await fetch(`${consoleUrl}/api/events`);
    expect(noSession.status).toBe(401);
    await screenshot(page, "login");

    // an absolute next is dropped: after sign-in the user lands on the overview, not elsewhere
    const victim = await createUser(server.url, ADMIN_TOKEN, "operator");
    for (let i = 0; i < 5; i++) {
      await page.goto(`${consoleUrl}/login?next=${encodeURIComponent("//evil.example/")}`);
      await page.getByLabel("Email").fill(victim.email);
      await page.getByLabel("Password").fill(`wrong-${i}-password`);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("alert").getByText("Wrong email or password.").waitFor();
    }
    // the refused form keeps the email (never the password)
    expect(await page.getByLabel("Email").inputValue()).toBe(victim.email);
    expect(await page.getByLabel("Password").inputValue()).toBe("");
    await page.getByLabel("Password").fill(victim.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // locked even with the right password now: a clear message with the wait, no session
    await page.getByRole("alert").getByText(/Too many failed sign-in attempts\. Try again in \d+ s\./).waitFor();
    await screenshot(page, "login-throttled");
    expect((await page.context().cookies()).some((c) => c.name === "fleet_session")).toBe(false);
    await page.context().close();
  });

  it("explains how to enroll while the fleet is empty", async () => {
    const page = await pageAs(adminUser);
    await page.goto(`${consoleUrl}/devices`);
    await page.getByRole("heading", { name: "No devices enrolled yet" }).waitFor();
    expect(await visibleText(page)).toContain("fleet-server token create");
    await page.context().close();
  });

  it("seeds one reporting device and one that never reported, through the real API", async () => {
    deviceId = await seedDevice();
    await enroll(SILENT_HOSTNAME);
    const list = await admin("/api/v1/devices");
    expect(list.json).toMatchObject({ total: 2 });
  });

  it("signs in with an httpOnly session cookie, shows the overview, the devices and the device page, then requests a benchmark", async () => {
    const page = await pageAs(adminUser);
    const cookie = (await page.context().cookies()).find((c) => c.name === "fleet_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);
    expect(await page.getByTestId("user-role").innerText()).toBe("admin");
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await screenshot(page, "overview");
    const sha8 = tinyModel().sha256.slice(0, 8);
    expect(sha8).toBe("81f226c6");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Devices" }).click();
    await page.waitForURL(`${consoleUrl}/devices`);
    const res = await page.goto(`${consoleUrl}/devices`);
    expect(res?.status()).toBe(200);
    const row = page.locator("tbody tr", { hasText: HOSTNAME });
    await row.waitFor();
    const rowText = await row.innerText();
    expect(rowText).toContain("Online");
    expect(rowText).toContain(sha8);
    expect(rowText).toContain("llama");
    expect(rowText).toContain("Ryzen 7 PRO 7840U");
    expect(rowText).toContain("32.0 GiB");
    expect(rowText).toContain("RTX 4060 Laptop");
    expect(rowText).toContain("8.0 GiB");
    await screenshot(page, "devices");
    // The session token stays in the httpOnly cookie: never in what the page receives.
    expect(await page.content()).not.toContain(adminUser.session.token.slice(-20));

    await row.getByRole("link", { name: HOSTNAME }).click();
    await page.waitForURL(`**/devices/${deviceId}`);
    await page.getByRole("heading", { name: HOSTNAME, level: 1 }).waitFor();
    const text = await visibleText(page);
    expect(text).toContain("Online");
    expect(text).toContain(tinyModel().sha256);
    expect(text).toContain("llama");
    expect(text).toContain("F16");
    expect(text).toContain("Ubuntu 24.04");
    expect(text).toContain("127.0.0.1:8765");
    expect(text).toMatch(/Prompts leave device\s*No/);

    // Through the server action, after a confirmation: the server answers 202 with a command id the page shows.
    await page.getByRole("button", { name: "Run benchmark…" }).click();
    const confirm = page.getByRole("dialog", { name: "Confirm benchmark" });
    expect(await confirm.innerText()).toContain(`Run a standard benchmark on ${HOSTNAME} with its active model: 5 repetitions of 512 prompt tokens and 128 generated tokens.`);
    await confirm.getByRole("button", { name: "Confirm benchmark" }).click();
    const notice = page.getByRole("status", { name: "Benchmark request" });
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.innerText()).toMatch(/command [0-9a-f-]{36}/);
    await screenshot(page, "device");
    await page.context().close();
  });

  it("a viewer sees no mutation action and the server answers 403 to the same request", async () => {
    const page = await pageAs(viewerUser);
    expect(await page.getByTestId("user-role").innerText()).toBe("viewer");
    await page.goto(`${consoleUrl}/devices/${deviceId}`);
    await page.getByRole("heading", { name: "Runtime metrics" }).waitFor();
    expect(await page.getByRole("button", { name: "Run benchmark" }).count()).toBe(0);
    await screenshot(page, "device-viewer");
    const api = await fetch(`${server.url}/api/v1/devices/${deviceId}/benchmarks`, {
      method: "POST",
      headers: { authorization: `Bearer ${viewerUser.session.token}`, "content-type": "application/json" },
      body: JSON.stringify({ modelId: null, nPrompt: 8, nGen: 8, repetitions: 1 }),
    });
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: { code: "forbidden" } });
    await page.context().close();
  });

  it("shows runtime metrics and benchmark results with their settings", async () => {
    const page = await pageAs(adminUser);
    await page.goto(`${consoleUrl}/devices/${deviceId}`);
    const runtime = page.locator("section", { has: page.getByRole("heading", { name: "Runtime metrics" }) });
    const runtimeText = await runtime.innerText();
    expect(runtimeText).toContain("41.5 ms"); // TTFT p50
    expect(runtimeText).toContain("88.3 ms"); // TTFT p95
    expect(runtimeText).toContain("140.0 MiB"); // peak RSS of the load
    const bench = page.locator("section", { has: page.getByRole("heading", { name: "Benchmarks" }) });
    await bench.getByText("Settings and hardware").first().click();
    const benchText = await bench.innerText();
    expect(benchText).toContain("5321.40 ± 41.20");
    expect(benchText).toContain("812.70 ± 9.30");
    expect(benchText).toContain("node-llama-cpp 3.22.1");
    // the event timeline merges audited actions on the device (benchmark requested above) and benchmark results
    const timeline = page.getByRole("list", { name: "Device events" });
    await timeline.waitFor();
    const timelineText = await timeline.innerText();
    expect(timelineText).toContain("benchmark finished");
    expect(timelineText).toMatch(/by (user:|admin)/);
    await page.getByRole("heading", { name: "TTFT, TPOT and tokens/s over time" }).waitFor();
    await page.context().close();
  });

  it("filters by search and status, pages, and answers 404 for an unknown device", async () => {
    const page = await pageAs(adminUser);
    await page.goto(`${consoleUrl}/devices?q=no-such-host-${randomUUID().slice(0, 4)}`);
    await page.getByText("No device matches these filters").waitFor();

    await page.goto(`${consoleUrl}/devices?status=online&q=${encodeURIComponent(HOSTNAME)}&gpuVendor=nvidia`);
    await page.locator("tbody tr", { hasText: HOSTNAME }).waitFor();
    await page.goto(`${consoleUrl}/devices?gpuVendor=amd`);
    await page.getByText("No device matches these filters").waitFor();

    // A model's short hash links to the devices that have it.
    await page.goto(`${consoleUrl}/devices`);
    await page.getByRole("link", { name: "Devices with model 81f226c6" }).click();
    await page.waitForURL(`**/devices?modelSha256=${tinyModel().sha256}`);
    await page.locator("tbody tr", { hasText: HOSTNAME }).waitFor();

    // Pagination keeps the filters and walks both devices.
    await page.goto(`${consoleUrl}/devices?pageSize=1`);
    await page.getByText("Page 1 of 2 · 2 devices").waitFor();
    const firstPage = await page.locator("tbody").innerText();
    await page.getByRole("link", { name: "Next →" }).click();
    await page.getByText("Page 2 of 2 · 2 devices").waitFor();
    expect(page.url()).toContain("pageSize=1");
    const both = firstPage + (await page.locator("tbody").innerText());
    expect(both).toContain(HOSTNAME);
    expect(both).toContain(SILENT_HOSTNAME);
    expect(both).toContain("Never seen");

    // Sorting is server-side and kept in the URL: hostname ascending by default, the header flips it.
    await page.goto(`${consoleUrl}/devices`);
    expect(await page.locator("tbody tr").first().innerText()).toContain(HOSTNAME);
    await page.getByRole("link", { name: /^Hostname/ }).click();
    await page.waitForURL(/sort=-hostname/);
    await page.locator("th[aria-sort=descending]").waitFor();
    expect(await page.locator("tbody tr").first().innerText()).toContain(SILENT_HOSTNAME);
    await page.getByRole("link", { name: /^Last seen/ }).click();
    await page.waitForURL(/sort=lastSeenAt/);
    expect(await page.locator("tbody tr").first().innerText()).toContain(HOSTNAME); // never seen sorts last

    const bad = await page.goto(`${consoleUrl}/devices?status=bogus`);
    expect(bad?.status()).toBe(200);
    await page.getByRole("alert").getByText("Invalid filter").waitFor();

    const missing = await page.goto(`${consoleUrl}/devices/no-such-device`);
    expect(missing?.status()).toBe(404);
    await page.getByRole("heading", { name: "Device not found" }).waitFor();

    await page.context().close();
  });

  it("shows the audit log filtered by actor and action, pages, and exports the same filter as CSV", async () => {
    const page = await pageAs(adminUser);
    await page.goto(`${consoleUrl}/audit`);
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    // the users created above were audited, and the throttled sign-in too
    await page.locator("tbody tr").first().waitFor();
    await page.getByLabel("Action").fill("auth.login_throttled");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=auth\.login_throttled/);
    const rows = await page.locator("tbody tr").allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes("auth.login_throttled"))).toBe(true);
    await screenshot(page, "audit");
    const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
    expect(href).toBe("/audit/export?action=auth.login_throttled");
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href!);
    const lines = csv.trim().split("\n");
    expect(lines[0]).toBe("at,actor,action,targetType,targetId,details");
    expect(lines.length).toBe(rows.length + 1);
    expect(lines.slice(1).every((l) => l.includes("auth.login_throttled"))).toBe(true);
    await page.goto(`${consoleUrl}/audit?from=2030-01-01T00:00&to=2020-01-01T00:00`);
    await page.getByRole("alert").getByText("Invalid filter").waitFor();
    await page.context().close();
  });

  it("signs out: the session is revoked on the server and the console asks for sign-in again", async () => {
    const who = await createUser(server.url, ADMIN_TOKEN, "viewer");
    const page = await pageAs(who);
    const browserSession = (await page.context().cookies()).find((c) => c.name === "fleet_session")!.value;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${consoleUrl}/login`);
    expect((await page.context().cookies()).some((c) => c.name === "fleet_session")).toBe(false);
    const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${browserSession}` } });
    expect(me.status).toBe(401);
    await page.goto(`${consoleUrl}/devices`);
    await page.waitForURL(/\/login\?next=%2Fdevices$/);
    // a stale cookie (signed-out session) is refused by the server: back to sign-in, not an error page
    await page.context().addCookies([{ name: "fleet_session", value: browserSession, url: consoleUrl }]);
    await page.goto(`${consoleUrl}/devices`);
    await page.waitForURL(/\/login\?next=%2Fdevices$/);
    await page.context().close();
  });

  it("shows an error panel, not a crash, when the server is down", async () => {
    const down = await startConsole(`http://127.0.0.1:${await freePort()}`);
    const page = await browser.newPage();
    try {
      // the sign-in page still renders; signing in explains that the server is unreachable
      await page.goto(`${down.url}/login`);
      await page.getByLabel("Email").fill(adminUser.email);
      await page.getByLabel("Password").fill(adminUser.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("alert").getByText("Fleetwise server unreachable").waitFor();
      // with a cookie, a page shows its panel instead of crashing
      await page.context().addCookies([{ name: "fleet_session", value: adminUser.session.token, url: down.url }]);
      const r = await page.goto(`${down.url}/devices`);
      expect(r?.status()).toBe(200);
      await page.getByRole("alert").getByText("Fleetwise server unreachable").waitFor();
      await screenshot(page, "server-down");
      expect(await page.content()).not.toMatch(/at \S+ \(.*:\d+:\d+\)/); // no stack trace
      // the live stream has no events token here: a clear 503
      const sse = await fetch(`${down.url}/api/events`, { headers: { cookie: `fleet_session=${adminUser.session.token}` } });
      expect(sse.status).toBe(503);
    } finally {
      await page.close();
      await stopProcess(down.proc);
    }
  });
});
