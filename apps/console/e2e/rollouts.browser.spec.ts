import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { ZCatalogEntryV1, type TCatalogEntryV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { REPO, createUser, screenshot, signIn, startStack, type Stack, type TestUser } from "./harness.js";

// Rollouts end to end in Chromium against two REAL agents (each in this process as `fleet-agent run` builds it: its own
// key, NATS identity, inference host serving the tiny model, assignment watcher and TUF client). An operator starts a
// two-ring rollout of a "v2" of the model through the wizard; the agents read their signed assignment, check it against
// TUF, download, verify sha256 and GGUF facts, self-test and report each step; the page's progress moves without a
// reload. The operator rolls it back and the agents serve their previous model again. A viewer sees no actions and the
// server refuses the same POSTs with 403.

const ADMIN_TOKEN = `console-rollouts-${randomUUID()}`;
const TINY = fileURLToPath(new URL("../../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));
/** the file the agents start with (their "previous model" after a rollback) */
const PREVIOUS_MODEL = "llama-2-tiny-random.gguf";
const GROUP = "console-roll";
const WAIT = 90_000; // generous: CI shares two cores between several sessions; the happy path takes seconds

/** What the console's spec uses of test/support/realAgent.ts (imported by a computed path, see startAgents). */
interface RealAgent {
  name: string;
  state: { deviceId: string };
  runtime: { status(): { activeModel: string | null } };
  stop(): Promise<void>;
}

let stack: Stack | undefined;
let browser: Browser;
let consoleUrl: string;
let serverUrl: string;
let operator: TestUser;
let viewer: TestUser;
let catalogAdmin: TestUser;
let entry: TCatalogEntryV1;
let rolloutId = "";
let tmp = "";
const agents: RealAgent[] = [];

const admin = (p: string, init: RequestInit = {}) =>
  fetch(`${serverUrl}${p}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) },
  });
const post = (p: string, body: unknown) => admin(p, { method: "POST", body: JSON.stringify(body) });
const serving = () => agents.map((a) => a.runtime.status().activeModel);

/**
 * A "v2" of the tiny model: the same weights with `general.name` rewritten in place (same length), so its sha256
 * differs while llama.cpp loads it as before.
 */
async function tinyV2(dir: string): Promise<string> {
  const bytes = Buffer.from(await fs.readFile(TINY));
  const key = bytes.indexOf("general.name");
  if (key < 0) throw new Error("the tiny model has no general.name");
  const at = key + "general.name".length;
  if (bytes.readUInt32LE(at) !== 8) throw new Error("general.name is not a GGUF string"); // GGUF type 8 = string
  const len = Number(bytes.readBigUInt64LE(at + 4));
  const name = "Fleet v2".padEnd(len, " ").slice(0, len);
  bytes.write(name, at + 12, "utf8");
  const file = path.join(dir, "llama-2-tiny-v2.gguf");
  await fs.writeFile(file, bytes);
  return file;
}

async function startAgents(): Promise<void> {
  // test/support is the cross-app e2e's helper; a computed specifier keeps the console's typecheck out of the agent's sources
  const supportPath = path.join(REPO, "test/support/realAgent.ts");
  const { startRealAgent } = (await import(/* @vite-ignore */ supportPath)) as {
    startRealAgent(srv: { url: string; admin: typeof admin }, name: string, group: string): Promise<RealAgent>;
  };
  const started = await Promise.allSettled(["ws-roll-a", "ws-roll-b"].map((n) => startRealAgent({ url: serverUrl, admin }, n, GROUP)));
  for (const s of started) if (s.status === "fulfilled") agents.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Record, in the page, every text the rollout's progress line and its devices' state badges show from now on
 * (a MutationObserver: it survives router.refresh() and the wizard's client-side redirect, but not a reload), and mark
 * the window so a reload shows. Installed on the wizard before the rollout starts, it sees the rollout page's first render.
 */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __noReload: boolean; __progress: string[]; __deviceStates: string[] };
    w.__noReload = true;
    w.__progress = [];
    w.__deviceStates = [];
    const read = () => {
      const el = document.querySelector('[data-testid="rollout-progress"]');
      const p = el?.textContent ?? "";
      if (el && w.__progress.at(-1) !== p) w.__progress.push(p);
      for (const b of document.querySelectorAll("tr[data-device] [data-device-state]")) {
        const s = `${b.closest("tr")?.getAttribute("data-device")}:${b.getAttribute("data-device-state")}`;
        if (!w.__deviceStates.includes(s)) w.__deviceStates.push(s);
      }
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const seen = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __noReload?: boolean; __progress: string[]; __deviceStates: string[] };
    return { noReload: w.__noReload === true, progress: w.__progress, deviceStates: w.__deviceStates };
  });

describe("rollouts in a real browser, over two real agents", () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-console-rollouts-"));
    stack = await startStack({ adminToken: ADMIN_TOKEN, serverEnv: { FLEET_QUALITY_GATE: "off" } });
    ({ browser, consoleUrl } = stack);
    serverUrl = stack.server.url;
    // the agents enroll, load the tiny model and report while users are made and the catalog entry is approved
    const agentsUp = startAgents();
    agentsUp.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
    [operator, viewer, catalogAdmin] = await Promise.all([
      createUser(serverUrl, ADMIN_TOKEN, "operator"),
      createUser(serverUrl, ADMIN_TOKEN, "viewer"),
      createUser(serverUrl, ADMIN_TOKEN, "admin"),
    ]);
    const v2 = await tinyV2(tmp);
    const imported = await post("/api/v1/catalog/import", { name: "tiny-console", version: "2", source: { repository: "test/tiny", revision: "main" }, conversion: { method: "as is" }, license: "MIT", memoryContextSize: 512, path: v2 });
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

    await agentsUp;
    expect(serving()).toEqual([PREVIOUS_MODEL, PREVIOUS_MODEL]);
    // the agents' real inventories make them compatible with the entry
    await waitFor(async () => {
      const r = await admin(`/api/v1/catalog/${entry.id}/compatibility`);
      if (r.status !== 200) return null;
      const totals = ((await r.json()) as { totals: Record<string, number> }).totals;
      return (totals["cpu-only"] ?? 0) + (totals["gpu-full"] ?? 0) + (totals["gpu-partial"] ?? 0) === 2 ? totals : null;
    }, "both agents compatible with the entry", WAIT);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.stop()));
    await stack?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("an operator starts a rollout in the wizard, sees the agents install it live, rolls it back, and the agents serve their previous model", async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, operator, "/rollouts");
    await screenshot(page, "rollouts-list");
    await page.getByRole("link", { name: "New rollout" }).click();
    await page.waitForURL(`${consoleUrl}/rollouts/new`);
    await page.locator('select[name="entryId"]').selectOption(entry.id);
    await page.getByLabel(/A device group/).check();
    await page.locator('input[name="group"]').fill(GROUP);
    // a canary of one agent that soaks 3 s (shown in seconds, not "0 min"), then the other agent
    await page.locator('input[name="rings.0.name"]').fill("canary");
    await page.locator('input[name="rings.0.percent"]').fill("50");
    await page.locator('input[name="rings.0.soakMin"]').fill("0.05");
    await page.locator('input[name="rings.0.gates.minTokensPerSecRatio"]').fill("");
    await page.locator('input[name="rings.1.name"]').fill("broad");
    await page.locator('input[name="rings.1.percent"]').fill("100");
    await page.locator('input[name="rings.1.soakMin"]').fill("0");
    await page.locator('input[name="rings.1.gates.minTokensPerSecRatio"]').fill("");
    await screenshot(page, "rollout-wizard");
    // watching from the wizard on: the rollout page's first render is recorded however fast the agents are (before,
    // a 9 s canary soak gave the page time to load before the second ring started)
    await watchProgress(page);
    await page.getByRole("button", { name: "Start rollout" }).click();
    await page.waitForURL(/\/rollouts\/[0-9a-f-]{36}$/);
    rolloutId = page.url().split("/").pop()!;
    await page.locator('[data-live="live"]').waitFor({ timeout: WAIT });

    // the agents install the model for real; each update report moves the page without a reload
    await page.locator('[data-rollout-state="completed"]').first().waitFor({ timeout: WAIT });
    const installed = await seen(page);
    expect(installed.noReload).toBe(true);
    expect(installed.progress.at(-1)).toBe("2 / 2 active (100%)");
    expect(installed.progress.length, `progress texts seen: ${installed.progress.join(" | ")}`).toBeGreaterThan(1);
    expect(installed.progress[0]).not.toBe("2 / 2 active (100%)");
    for (const a of agents) expect(installed.deviceStates).toContain(`${a.name}:active`);
    expect(await page.locator('tr[data-ring="canary"]').innerText()).toContain("50% · soak 3 s");
    expect(await page.locator('tr[data-ring="canary"] td.ring-progress').innerText()).toBe("1 / 1 active (100%)");
    expect(await page.locator('tr[data-ring="broad"] td.ring-progress').innerText()).toBe("1 / 1 active (100%)");
    // what the page says is what the agents do: both serve the new model
    expect(serving()).toEqual([entry.targetPath, entry.targetPath]);
    await screenshot(page, "rollout-progress-live");

    await page.getByRole("group", { name: "Rollout actions" }).getByRole("button", { name: "Roll back", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm Roll back" });
    await dialog.getByLabel("Reason").fill("e2e: wrong model for this fleet");
    await screenshot(page, "rollout-rollback-confirm");
    await dialog.getByRole("button", { name: "Confirm roll back" }).click();
    await page.locator('[data-rollout-state="rolled_back"]').first().waitFor({ timeout: WAIT });
    // each agent applies its signed rollback assignment and reports it; the rows follow live
    await waitFor(() => (serving().every((m) => m === PREVIOUS_MODEL) ? true : null), "both agents serve their previous model", WAIT);
    for (const a of agents) await page.locator(`tr[data-device="${a.name}"] [data-device-state="rolled_back"]`).waitFor({ timeout: WAIT });
    expect((await seen(page)).noReload).toBe(true);
    const after = (await (await admin(`/api/v1/rollouts/${rolloutId}`)).json()) as { state: string; totals: Record<string, number> };
    expect(after.state).toBe("rolled_back");
    expect(after.totals.rolled_back).toBe(2);
    // stopped: no ring runs, and no per-device rollback is offered any more
    expect(await page.locator("tr[data-ring]").first().innerText()).not.toContain("running");
    expect(await page.getByRole("button", { name: "Roll back device" }).count()).toBe(0);
    await screenshot(page, "rollout-rolled-back");

    // the device page shows what the agent's heartbeat says it serves: the previous model again
    await page.locator(`tr[data-device="${agents[0]!.name}"] a`).click();
    await page.waitForURL(`${consoleUrl}/devices/${agents[0]!.state.deviceId}`);
    const summary = page.getByRole("region", { name: "Summary" });
    await waitFor(async () => ((await summary.innerText()).includes(PREVIOUS_MODEL) ? true : null), "the device page shows the previous model served", WAIT);
    expect(await summary.innerText()).not.toContain(entry.targetPath);
    await screenshot(page, "rollout-device-rolled-back");
    await page.context().close();
  }, 180_000);

  it("an operator requests a sustained benchmark on a device page, confirms it, and the real agent's result appears live", async () => {
    const agent = agents[1]!;
    const page = await (await browser.newContext()).newPage();
    await signIn(page, consoleUrl, operator, `/devices/${agent.state.deviceId}`);
    await page.locator('[data-live="live"]').waitFor({ timeout: WAIT });
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    const form = page.getByRole("form", { name: "Run benchmark" });
    await form.locator('select[name="mode"]').selectOption("sustained");
    await form.getByLabel("Prompt tokens").fill("16");
    await form.getByLabel("Generated tokens").fill("8");
    await form.getByLabel("Duration (s)").fill("2"); // the shortest the server accepts
    await form.getByLabel("Sample every (s)").fill("1");
    await form.getByRole("button", { name: "Run benchmark…" }).click();
    // nothing is sent before the confirmation, which says what will run where
    const dialog = form.getByRole("dialog", { name: "Confirm benchmark" });
    expect(await dialog.innerText()).toContain(`Run a sustained benchmark on ${agent.name} with its active model: generate for 2 s, sampling tokens/s every 1 s`);
    await screenshot(page, "device-benchmark-confirm");
    await dialog.getByRole("button", { name: "Confirm benchmark" }).click();
    const status = form.getByRole("status", { name: "Benchmark request" });
    await status.waitFor({ timeout: WAIT });
    const commandId = (await status.locator("code").innerText()).trim();
    // the agent verifies the signed command, runs 2 s of generation on the tiny model and reports; the page follows live
    await form.locator('[data-request-state="completed"]').waitFor({ timeout: WAIT });
    expect(await status.innerText()).toMatch(/^Sustained benchmark completed .*: generation \d/);
    expect((await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)) === true).toBe(true);
    const listed = (await (await admin(`/api/v1/devices/${agent.state.deviceId}/benchmarks`)).json()) as { items: { result: { commandId: string | null; ok: boolean; sustained?: { samples: unknown[] } } }[] };
    const run = listed.items.find((i) => i.result.commandId === commandId)?.result;
    expect(run?.ok).toBe(true);
    expect(run?.sustained?.samples.length).toBeGreaterThan(0);
    expect(await page.getByRole("region", { name: "Benchmarks" }).locator("tbody tr").count()).toBeGreaterThan(0);
    await screenshot(page, "device-benchmark-completed");
    await page.context().close();
  }, 120_000);

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
    // nor a benchmark form on a device page; the server refuses the viewer's benchmark request too
    await page.goto(`${consoleUrl}/devices/${agents[0]!.state.deviceId}`);
    await page.getByText("Your role (viewer) can read results").waitFor({ timeout: WAIT });
    expect(await page.getByRole("form", { name: "Run benchmark" }).count()).toBe(0);
    await screenshot(page, "device-viewer-no-benchmark");
    const bench = await fetch(`${serverUrl}/api/v1/devices/${agents[0]!.state.deviceId}/benchmarks`, {
      method: "POST",
      headers: { authorization: `Bearer ${viewer.session.token}`, "content-type": "application/json" },
      body: JSON.stringify({ mode: "sustained", durationSec: 2 }),
    });
    expect(bench.status).toBe(403);
    const audit = await admin(`/api/v1/audit?action=catalog.approved`);
    expect(JSON.stringify(await audit.json())).toContain(`user:${catalogAdmin.email}`);
    await page.context().close();
  });
});
