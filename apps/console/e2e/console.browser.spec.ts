import { randomUUID } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import type { Browser, Page } from "playwright-core";
import { ZDeviceDetailV1 } from "@fleet/protocol";
import { freePort, waitFor, type TestNatsServer } from "@fleet/test-utils";
import type { FleetServer } from "../../server/src/app.js";
import { enrollDevice, reportPublisher, startConsole as startHarnessConsole, startStack, stopProcess, type Stack } from "./harness.js";
import { benchmarkBody, heartbeatBody, inventoryBody, metricsBody, modelsBody, postureBody, tinyModel } from "./fixtures.js";

// One real-browser pass over the production build (`next build` + `next start`) against a real
// in-process server, real PostgreSQL and a private nats-server, seeded only through the real API.

const ADMIN_TOKEN = `console-e2e-${randomUUID()}`;
const HOSTNAME = `ws-console-${randomUUID().slice(0, 6)}`;
const SILENT_HOSTNAME = `ws-silent-${randomUUID().slice(0, 6)}`;
const SHOTS = { fleet: "/tmp/console-fleet.png", device: "/tmp/console-device.png", down: "/tmp/console-down.png" };

let nats: TestNatsServer;
let server: FleetServer;
let nc: NatsConnection;
let stack: Stack | undefined;
let consoleUrl: string;
let browser: Browser;
let deviceId: string;

async function admin(pathname: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${pathname}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function startConsole(serverUrl: string, adminToken: string = ADMIN_TOKEN): Promise<{ url: string; proc: ChildProcess }> {
  return startHarnessConsole(serverUrl, adminToken);
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
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("explains how to enroll while the fleet is empty", async () => {
    const page = await browser.newPage();
    await page.goto(`${consoleUrl}/`);
    await page.getByRole("heading", { name: "No devices enrolled yet" }).waitFor();
    expect(await visibleText(page)).toContain("fleet-server token create");
    await page.close();
  });

  it("seeds one reporting device and one that never reported, through the real API", async () => {
    deviceId = await seedDevice();
    await enroll(SILENT_HOSTNAME);
    const list = await admin("/api/v1/devices");
    expect(list.json).toMatchObject({ total: 2 });
  });

  it("shows the fleet inventory and the device page with its model, then requests a benchmark", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const sha8 = tinyModel().sha256.slice(0, 8);
    expect(sha8).toBe("81f226c6");

    const res = await page.goto(`${consoleUrl}/`);
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
    await page.screenshot({ path: SHOTS.fleet, fullPage: true });
    // The admin token stays on the console's server: never in what the browser receives.
    expect(await page.content()).not.toContain(ADMIN_TOKEN);

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
    expect(await page.content()).not.toContain(ADMIN_TOKEN);

    // Through the server action: the server answers 202 with a command id the page shows.
    await page.getByRole("button", { name: "Run benchmark" }).click();
    const notice = page.getByText("Benchmark requested");
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.innerText()).toMatch(/command [0-9a-f-]{36}/);
    await page.screenshot({ path: SHOTS.device, fullPage: true });
    await page.close();
  });

  it("shows runtime metrics and benchmark results with their settings", async () => {
    const page = await browser.newPage();
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
    await page.close();
  });

  it("filters by search and status, pages, and answers 404 for an unknown device", async () => {
    const page = await browser.newPage();
    await page.goto(`${consoleUrl}/?q=no-such-host-${randomUUID().slice(0, 4)}`);
    await page.getByText("No device matches these filters").waitFor();

    await page.goto(`${consoleUrl}/?status=online&q=${encodeURIComponent(HOSTNAME)}&gpuVendor=nvidia`);
    await page.locator("tbody tr", { hasText: HOSTNAME }).waitFor();
    await page.goto(`${consoleUrl}/?gpuVendor=amd`);
    await page.getByText("No device matches these filters").waitFor();

    // A model's short hash links to the devices that have it.
    await page.goto(`${consoleUrl}/`);
    await page.getByRole("link", { name: "Devices with model 81f226c6" }).click();
    await page.waitForURL(`**/?modelSha256=${tinyModel().sha256}`);
    await page.locator("tbody tr", { hasText: HOSTNAME }).waitFor();

    // Pagination keeps the filters and walks both devices.
    await page.goto(`${consoleUrl}/?pageSize=1`);
    await page.getByText("Page 1 of 2 · 2 devices").waitFor();
    const firstPage = await page.locator("tbody").innerText();
    await page.getByRole("link", { name: "Next →" }).click();
    await page.getByText("Page 2 of 2 · 2 devices").waitFor();
    expect(page.url()).toContain("pageSize=1");
    const both = firstPage + (await page.locator("tbody").innerText());
    expect(both).toContain(HOSTNAME);
    expect(both).toContain(SILENT_HOSTNAME);
    expect(both).toContain("Never seen");

    const bad = await page.goto(`${consoleUrl}/?status=bogus`);
    expect(bad?.status()).toBe(200);
    await page.getByRole("alert").getByText("Invalid filter").waitFor();

    const missing = await page.goto(`${consoleUrl}/devices/no-such-device`);
    expect(missing?.status()).toBe(404);
    await page.getByRole("heading", { name: "Device not found" }).waitFor();

    await page.close();
  });

  it("shows an error panel, not a crash, when the server is down, refuses the token, or no token is set", async () => {
    const [down, wrongToken, noToken] = await Promise.all([
      startConsole(`http://127.0.0.1:${await freePort()}`),
      startConsole(server.url, "not-the-admin-token-but-long-enough"),
      startConsole(server.url, ""),
    ]);
    const page = await browser.newPage();
    try {
      const r = await page.goto(`${down.url}/`);
      expect(r?.status()).toBe(200);
      await page.getByRole("alert").getByText("Fleetwise server unreachable").waitFor();
      await page.screenshot({ path: SHOTS.down });

      // The live stream fails the same way: an error state on the page, a 502 with the error JSON from the route.
      await page.locator('[data-live="reconnecting"]', { hasText: "did not answer" }).waitFor({ timeout: 10_000 });
      const downSse = await fetch(`${down.url}/api/events`);
      expect(downSse.status).toBe(502);
      expect(await downSse.json()).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("did not answer") } });

      await page.goto(`${wrongToken.url}/devices/${deviceId}`);
      await page.getByRole("alert").getByText("The server refused the console's token").waitFor();
      await page.locator('[data-live="reconnecting"]', { hasText: "refused the console's token" }).waitFor({ timeout: 10_000 });
      const refused = await fetch(`${wrongToken.url}/api/events?deviceId=${deviceId}`);
      expect(refused.status).toBe(502);
      const refusedText = await refused.text();
      expect(JSON.parse(refusedText)).toMatchObject({ error: { code: "unauthorized" } });
      expect(refusedText).not.toContain("not-the-admin-token");

      await page.goto(`${noToken.url}/`);
      const alert = page.locator("section[role=alert]");
      await alert.getByText("Console is not configured").waitFor();
      expect(await alert.innerText()).toContain("FLEET_ADMIN_TOKEN: missing");
    } finally {
      await page.close();
      await Promise.all([down, wrongToken, noToken].map((c) => stopProcess(c.proc)));
    }
  });
});
