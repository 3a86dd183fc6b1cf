import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZComplianceReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { createUser, enrollDevice, reportPublisher, screenshot, signIn, startStack, type Stack, type TestUser } from "./harness.js";
import { inventoryBody, modelsBody, postureBody } from "./fixtures.js";

// A viewer reads the compliance page (real server, PostgreSQL, NATS, production console build, Chromium): the
// device's posture is published as signed reports through JetStream, then evaluated by the server.

const ADMIN_TOKEN = `compliance-e2e-${randomUUID()}`;
const HOSTNAME = `ws-compliance-${randomUUID().slice(0, 6)}`;

let stack: Stack | undefined;
let viewer: TestUser;
let deviceId: string;

describe("console compliance in a real browser", () => {
  beforeAll(async () => {
    stack = await startStack({ adminToken: ADMIN_TOKEN });
    viewer = await createUser(stack.server.url, ADMIN_TOKEN, "viewer");
    const { enrolled, privateKey } = await enrollDevice(stack.server.url, ADMIN_TOKEN, HOSTNAME);
    deviceId = enrolled.deviceId;
    const { publish } = reportPublisher(stack.nc, enrolled, privateKey);
    await publish("inventory", inventoryBody(HOSTNAME));
    await publish("models", modelsBody());
    await publish("posture", postureBody(stack.server.url, stack.nats.url));
    const server = stack.server;
    await waitFor(
      async () => {
        const res = await fetch(`${server.url}/api/v1/compliance/report`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        const report = ZComplianceReportV1.safeParse(await res.json());
        return report.success && report.data.devices.some((d) => d.deviceId === deviceId && d.lastPostureAt !== null);
      },
      "the server to evaluate the seeded posture",
      20_000,
    );
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("shows totals and device results, drills down, and downloads the CSV as the signed-in viewer", async () => {
    const s = stack!;
    const page = await (await s.browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    await signIn(page, s.consoleUrl, viewer, "/compliance");
    await page.waitForURL(/\/compliance$/);

    const totals = page.getByTestId("compliance-totals");
    await expect.poll(() => totals.innerText()).toMatch(/Devices\s*1\b/);
    const rows = page.getByTestId("compliance-row");
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await rows.first().innerText()).toContain(HOSTNAME);
    expect(await page.getByRole("heading", { name: "Outbound destinations" }).isVisible()).toBe(true);
    await screenshot(page, "compliance-overview");

    // filters live in the URL
    await page.goto(`${s.consoleUrl}/compliance?policy=api_loopback&q=${HOSTNAME}`);
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain("api_loopback");

    await rows.first().getByRole("link", { name: HOSTNAME }).click();
    await page.waitForURL(new RegExp(`/compliance/devices/${deviceId}$`));
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe(HOSTNAME);
    expect(await page.getByTestId("device-policy-row").count()).toBeGreaterThan(1);
    await screenshot(page, "compliance-device");

    const csv = await page.request.get(`${s.consoleUrl}/compliance/export/csv`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect(csv.headers()["content-disposition"]).toMatch(/attachment; filename="compliance-.*\.csv"/);
    const text = await csv.text();
    const [headerRow] = text.split(/\r?\n/);
    expect(headerRow).toBe("deviceId,hostname,deviceStatus,lastPostureAt,policy,status,findingCount,subjects,evidence");
    expect(text).toContain(HOSTNAME);

    // without a session there is no report: the console sends the browser to sign in (the browser never holds a server token)
    const anon = await fetch(`${s.consoleUrl}/compliance/export/csv`, { redirect: "manual" });
    expect([302, 303, 307, 401]).toContain(anon.status);
    expect(await anon.text()).not.toContain(HOSTNAME);
  }, 30_000);
});
