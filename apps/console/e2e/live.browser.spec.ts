import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import type { Browser } from "playwright-core";
import { ZFleetEventV1, type TFleetEventV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import type { FleetServer } from "../../server/src/app.js";
import { heartbeatBody, inventoryBody, modelsBody } from "./fixtures.js";
import { enrollDevice, reportPublisher, startStack, type Stack } from "./harness.js";

// Live updates end to end: server -> socket.io /events -> the console's SSE route -> EventSource in
// Chromium -> router.refresh(), with devices enrolled and reporting over the real API and JetStream.

const ADMIN_TOKEN = `console-live-${randomUUID()}`;
const HEARTBEAT_MS = 300;

let server: FleetServer;
let nc: NatsConnection;
let stack: Stack | undefined;
let consoleUrl: string;
let browser: Browser;
/** websocket connections the server holds right now (each SSE client holds one upstream) */
let upstreamSockets = 0;

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

describe("live fleet updates in a real browser", () => {
  beforeAll(async () => {
    stack = await startStack({
      adminToken: ADMIN_TOKEN,
      consoleEnv: { FLEET_EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS) },
      onServer: (srv) => {
        // Observe only: count upgraded (websocket) connections, so a test can see the upstream close.
        srv.app.getHttpServer().on("upgrade", (_req: unknown, socket: Socket) => {
          upstreamSockets++;
          socket.once("close", () => upstreamSockets--);
        });
      },
    });
    ({ server, nc, browser, consoleUrl } = stack);
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("shows a newly enrolled, reporting device on / without a reload, and says it is live", async () => {
    const page = await browser.newPage();
    await page.goto(`${consoleUrl}/`);
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
    await page.screenshot({ path: "/tmp/console-live.png", fullPage: true });
    await page.close();
    await waitFor(() => upstreamSockets === 0, "the upstream socket to close with the page", 5_000);
  });

  it("on a device page, refreshes for that device and lists its rejected reports", async () => {
    const hostname = `ws-live-dev-${randomUUID().slice(0, 6)}`;
    const dev = await newReportingDevice(hostname);
    await dev.publish("inventory", inventoryBody(hostname));
    const page = await browser.newPage();
    await page.goto(`${consoleUrl}/devices/${dev.id}`);
    await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("main").innerText()).toContain("no heartbeat yet");

    await dev.publish("heartbeat", heartbeatBody());
    await page.getByText("queue 0").waitFor({ timeout: 5_000 });

    await dev.publishRaw("heartbeat", "not a signed report");
    const alert = page.getByRole("alert", { name: "Rejected reports" });
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.innerText()).toContain("malformed");
    await page.screenshot({ path: "/tmp/console-live-device.png", fullPage: true });
    await page.close();
  });

  it("relays validated events as SSE with heartbeats, never the admin token, and closes upstream on disconnect", async () => {
    await waitFor(() => upstreamSockets === 0, "no upstream sockets before", 5_000);
    const ctrl = new AbortController();
    const res = await fetch(`${consoleUrl}/api/events`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-transform");
    await waitFor(() => upstreamSockets === 1, "one upstream socket for the stream", 5_000);

    const hostname = `ws-live-sse-${randomUUID().slice(0, 6)}`;
    const dev = await newReportingDevice(hostname);
    await dev.publish("heartbeat", heartbeatBody());
    const text = await readStream(res, (t) => dataEvents(t).some((e) => e.type === "device.reported") && (t.match(/^: heartbeat$/gm)?.length ?? 0) >= 2);

    expect(text.startsWith("retry: ")).toBe(true);
    const events = dataEvents(text);
    expect(events.find((e) => e.type === "device.enrolled")).toMatchObject({ deviceId: dev.id, data: { hostname } });
    expect(events.find((e) => e.type === "device.reported")).toMatchObject({ deviceId: dev.id, data: { kind: "heartbeat" } });
    expect(text).not.toContain(ADMIN_TOKEN);

    ctrl.abort();
    await waitFor(() => upstreamSockets === 0, "the upstream socket to close when the client goes", 5_000);

    // A device-scoped stream relays only that device's events; a bad id is refused with the error JSON.
    const scoped = new AbortController();
    const mine = await fetch(`${consoleUrl}/api/events?deviceId=${dev.id}`, { signal: scoped.signal });
    await waitFor(() => upstreamSockets === 1, "the scoped stream's upstream socket", 5_000);
    const stranger = await newReportingDevice(`ws-live-other-${randomUUID().slice(0, 6)}`);
    await stranger.publish("heartbeat", heartbeatBody());
    await dev.publish("heartbeat", heartbeatBody());
    const scopedText = await readStream(mine, (t) => dataEvents(t).some((e) => e.type === "device.reported"));
    scoped.abort();
    expect(dataEvents(scopedText).length).toBeGreaterThan(0);
    expect(dataEvents(scopedText).every((e) => e.deviceId === dev.id)).toBe(true);

    const other = await fetch(`${consoleUrl}/api/events?deviceId=..%2Fx`);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
