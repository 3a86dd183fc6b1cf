import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZFleetOverviewV1, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { createSignedInUser } from "../testing/auth-helpers.js";
import type { SimDevice } from "../testing/device-sim.js";
import { heartbeatBody, inventoryBody, modelEntry, modelsBody, TINY_SHA } from "../testing/fixtures.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

let t: TestServer;

async function publishAndWait(dev: SimDevice, report: TReportV1) {
  await dev.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `report ${report.msgId}`);
}

describe("GET /api/v1/overview", () => {
  beforeAll(async () => {
    t = await startTestServer();
  }, 120_000);
  afterAll(async () => t?.close());

  it("aggregates devices, hardware classes, models and violations for a viewer", async () => {
    const viewer = await createSignedInUser(t.url, t.admin, "viewer");
    const empty = ZFleetOverviewV1.parse(await (await viewer.as("/api/v1/overview")).json());
    expect(empty.devices).toEqual({ total: 0, online: 0, offline: 0, neverSeen: 0, revoked: 0 });
    expect(empty.models).toEqual([]);

    const [a, b] = await Promise.all([t.enrollDevice("ov-a"), t.enrollDevice("ov-b")]);
    await t.enrollDevice("ov-silent");
    await publishAndWait(a, a.report("inventory", inventoryBody({ gpus: [inventoryBody().gpus[0]!] })));
    await publishAndWait(a, a.report("models", modelsBody([modelEntry("tiny.gguf")])));
    await publishAndWait(a, a.report("heartbeat", heartbeatBody()));
    await publishAndWait(b, b.report("inventory", inventoryBody({ gpus: [] })));
    await publishAndWait(b, b.report("models", modelsBody([modelEntry("tiny-copy.gguf")])));
    await t.db.prisma.complianceViolation.create({
      data: { deviceId: b.id, policy: "disk-encryption", subject: "disk", detail: "not encrypted", evidence: {}, firstSeenAt: new Date(), lastSeenAt: new Date() },
    });

    const o = ZFleetOverviewV1.parse(await (await viewer.as("/api/v1/overview")).json());
    expect(o.devices.total).toBe(3);
    expect(o.devices.online).toBe(2);
    expect(o.devices.neverSeen).toBe(1);
    expect(o.ramClasses.reduce((s, c) => s + c.devices, 0)).toBe(2);
    expect(o.gpuClasses).toEqual(expect.arrayContaining([{ vendor: "nvidia", vram: "≤ 8 GiB", devices: 1 }, { vendor: "none", vram: "—", devices: 1 }]));
    expect(o.models).toEqual([expect.objectContaining({ sha256: TINY_SHA, devices: 2 })]);
    // the server's own compliance evaluation adds its violations (e.g. unapproved models) beside the seeded one
    expect(o.violations.byPolicy).toEqual(expect.arrayContaining([{ policy: "disk-encryption", open: 1 }]));
    expect(o.violations.open).toBe(o.violations.byPolicy.reduce((s, p) => s + p.open, 0));
    expect(o.violations.devices).toBeGreaterThanOrEqual(1);
    expect(o.rollouts).toEqual([]);
    expect((await fetch(`${t.url}/api/v1/overview`)).status).toBe(401);
  });
});
