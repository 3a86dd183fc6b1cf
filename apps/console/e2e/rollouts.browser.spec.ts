import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Empty, type NatsConnection } from "nats";
import type { Browser } from "playwright-core";
import { importPublicJwk, openAssignment, updateStatusOf, ZCatalogEntryV1, type TCatalogEntryV1, type TEnrollResponseV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { heartbeatBody, inventoryBody, modelsBody } from "./fixtures.js";
import { createUser, enrollDevice, reportPublisher, screenshot, signIn, startStack, type Stack, type TestUser } from "./harness.js";

// Rollouts end to end in Chromium: an operator starts one through the wizard, watches a ring's progress move without
// a reload (devices answer their signed assignment with signed "update" reports over JetStream), rolls it back with a
// reason; a viewer sees no actions and the server refuses the same POST with 403.

const ADMIN_TOKEN = `console-rollouts-${randomUUID()}`;
const TINY = fileURLToPath(new URL("../../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

let stack: Stack | undefined;
let nc: NatsConnection;
let browser: Browser;
let consoleUrl: string;
let serverUrl: string;
let operator: TestUser;
let viewer: TestUser;
let catalogAdmin: TestUser;
let entry: TCatalogEntryV1;
let rolloutId = "";
const devices: { enrolled: TEnrollResponseV1; reports: ReturnType<typeof reportPublisher> }[] = [];

const admin = (p: string, body?: unknown) =>
  fetch(`${serverUrl}${p}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** What the agent's update loop does: read its signed assignment from the KV bucket, verify it, report "active". */
async function installAndReportActive(d: (typeof devices)[number]): Promise<void> {
  const { enrolled } = d;
  const bucket = enrolled.assignmentBucket;
  const a = await waitFor(async () => {
    const reply = await nc.request(`$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${enrolled.deviceId}`, Empty, { timeout: 5000 });
    if (reply.data.length === 0) return null;
    const opened = await openAssignment(reply.data, await importPublicJwk(enrolled.serverPublicKeyJwk), { deviceId: enrolled.deviceId, minVersionExclusive: 0 });
    return opened.ok && opened.value.action === "install" && opened.value.desired ? opened.value : null;
  }, "the device's install assignment", 10_000);
  const desired = a.desired!;
  await d.reports.publish("update", updateStatusOf(a, "active", { serving: { model: desired.target, sha256: desired.sha256 }, selfTest: { ok: true, loadMs: 100, outputTokens: 16, tokensPerSecond: 50, error: null } }));
}

describe("rollouts in a real browser", () => {
  beforeAll(async () => {
    stack = await startStack({ adminToken: ADMIN_TOKEN, serverEnv: { FLEET_QUALITY_GATE: "off" } });
    ({ nc, browser, consoleUrl } = stack);
    serverUrl = stack.server.url;
    [operator, viewer, catalogAdmin] = await Promise.all([
      createUser(serverUrl, ADMIN_TOKEN, "operator"),
      createUser(serverUrl, ADMIN_TOKEN, "viewer"),
      createUser(serverUrl, ADMIN_TOKEN, "admin"),
    ]);

    const imported = await admin("/api/v1/catalog/import", { name: "tiny-console", version: "2", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: TINY });
    expect(imported.status, await imported.clone().text()).toBe(201);
    const draft = ZCatalogEntryV1.parse(await imported.json());
    // an admin approves the draft on its catalog page: the button asks for a reason before anything is sent
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, catalogAdmin, `/catalog/${draft.id}`);
    await page.getByRole("button", { name: "Approve…" }).click();
    await page.getByLabel(/Reason for approval/).fill("console e2e: license and facts reviewed");
    await page.getByRole("button", { name: "Confirm approval" }).click();
    // the page re-renders from the server: an approved entry offers deprecate instead of approve
    await page.getByRole("button", { name: "Deprecate…" }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole("button", { name: "Approve…" }).count()).toBe(0);
    expect(await page.locator("main").innerText()).toContain(`by user:${catalogAdmin.email}`);
    await screenshot(page, "catalog-approved");
    await page.context().close();
    entry = ZCatalogEntryV1.parse(await (await admin(`/api/v1/catalog/${draft.id}`)).json());
    expect(entry.state).toBe("approved");

    for (const name of ["ws-roll-a", "ws-roll-b"]) {
      const { enrolled, privateKey } = await enrollDevice(serverUrl, ADMIN_TOKEN, name);
      const reports = reportPublisher(nc, enrolled, privateKey);
      await reports.publish("inventory", inventoryBody(name));
      await reports.publish("models", modelsBody());
      await reports.publish("heartbeat", heartbeatBody());
      devices.push({ enrolled, reports });
    }
    await waitFor(async () => {
      const r = await admin(`/api/v1/catalog/${entry.id}/compatibility`);
      if (r.status !== 200) return null;
      const totals = ((await r.json()) as { totals: Record<string, number> }).totals;
      return (totals["cpu-only"] ?? 0) + (totals["gpu-full"] ?? 0) + (totals["gpu-partial"] ?? 0) === 2 ? totals : null;
    }, "both devices compatible with the entry", 15_000);
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("an operator starts a rollout in the wizard, sees its ring progress live, and rolls it back with a reason", async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, operator, "/rollouts");
    await page.getByRole("link", { name: "New rollout" }).click();
    await page.waitForURL(`${consoleUrl}/rollouts/new`);
    await page.locator('select[name="entryId"]').selectOption(entry.id);
    await page.getByLabel("All compatible devices").check();
    // one ring to all devices, no soak; the second default ring is dropped by emptying its name
    await page.locator('input[name="rings.0.name"]').fill("all");
    await page.locator('input[name="rings.0.percent"]').fill("100");
    await page.locator('input[name="rings.0.soakMin"]').fill("0");
    await page.locator('input[name="rings.0.gates.minTokensPerSecRatio"]').fill("");
    await page.locator('input[name="rings.1.name"]').fill("");
    await screenshot(page, "rollout-wizard");
    await page.getByRole("button", { name: "Start rollout" }).click();
    await page.waitForURL(/\/rollouts\/[0-9a-f-]{36}$/);
    rolloutId = page.url().split("/").pop()!;

    const ring = page.locator("td.ring-progress").first();
    await waitFor(async () => (await ring.innerText()).includes("0 / 2 active"), "ring shows 0 of 2 active", 10_000);
    await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    await installAndReportActive(devices[0]!);
    await waitFor(async () => (await ring.innerText()).includes("1 / 2 active"), "ring progress to move live to 1 of 2", 10_000);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await screenshot(page, "rollout-progress-live");

    await page.getByRole("group", { name: "Rollout actions" }).getByRole("button", { name: "Roll back", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm Roll back" });
    await dialog.getByLabel("Reason").fill("e2e: wrong model for this fleet");
    await dialog.getByRole("button", { name: "Confirm roll back" }).click();
    await page.locator('[data-rollout-state="rolled_back"]').first().waitFor({ timeout: 10_000 });
    const audited = await admin(`/api/v1/rollouts/${rolloutId}`);
    expect(((await audited.json()) as { state: string }).state).toBe("rolled_back");
    // stopped: no ring runs, and no per-device rollback is offered any more
    expect(await page.locator("tr[data-ring]").first().innerText()).not.toContain("running");
    expect(await page.getByRole("button", { name: "Roll back device" }).count()).toBe(0);
    await screenshot(page, "rollout-rolled-back");
    await page.context().close();
  });

  it("a viewer sees the rollout without action buttons, and the server refuses the same POST with 403", async () => {
    expect(rolloutId).not.toBe("");
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, viewer, `/rollouts/${rolloutId}`);
    await page.locator('[data-rollout-state="rolled_back"]').first().waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: /Pause|Resume|Abort|Roll back/ }).count()).toBe(0);
    await page.goto(`${consoleUrl}/rollouts`);
    expect(await page.getByRole("link", { name: "New rollout" }).count()).toBe(0);
    // nor catalog transitions; the server refuses the viewer's approve too
    await page.goto(`${consoleUrl}/catalog/${entry.id}`);
    await page.getByRole("heading", { level: 1 }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: /Approve|Deprecate|Revoke/ }).count()).toBe(0);
    await screenshot(page, "rollout-viewer");
    const refused = await fetch(`${serverUrl}/api/v1/rollouts/${rolloutId}/pause`, {
      method: "POST",
      headers: { authorization: `Bearer ${viewer.session.token}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "viewer tries" }),
    });
    expect(refused.status).toBe(403);
    const deprecate = await fetch(`${serverUrl}/api/v1/catalog/${entry.id}/deprecate`, {
      method: "POST",
      headers: { authorization: `Bearer ${viewer.session.token}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "viewer tries" }),
    });
    expect(deprecate.status).toBe(403);
    const audit = await admin(`/api/v1/audit?action=catalog.approved`);
    expect(JSON.stringify(await audit.json())).toContain(`user:${catalogAdmin.email}`);
    await page.context().close();
  });
});
