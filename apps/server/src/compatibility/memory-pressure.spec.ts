import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZCatalogEntryV1, ZDeviceListV1, ZRuntimeMetricsViewV1, type ReportBody, type TMemoryPressureV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { inventoryBody, metricsBody, TINY_SHA } from "../testing/fixtures.js";

const TINY = "/work/shared/models/llama-2-tiny-random.gguf";
const GIB = 1024 ** 3;

// What the agent's evaluateMemoryPressure reports for a window in which the host swapped (figures of that shape).
const heavyWindow = (plannedToFit: boolean | null): TMemoryPressureV1 => ({
  scope: "window",
  at: new Date().toISOString(),
  modelId: "tiny",
  sha256: TINY_SHA,
  windowSec: 60,
  peakRssBytes: 14 * GIB,
  rssBytes: 13 * GIB,
  swapBytes: 2 * GIB,
  majorFaults: 96_000,
  majorFaultsPerSec: 1600,
  swapInPages: 180_000,
  swapOutPages: 220_000,
  plannedToFit,
  heavy: true,
  reason: "2048 MiB of the inference host is swapped out (> 64 MiB); 1600 major page faults/s while serving (> 200)",
});

let t: TestServer;
let dev: SimDevice;
let other: SimDevice;

async function publish<K extends "inventory" | "metrics">(d: SimDevice, kind: K, body: ReportBody<K>): Promise<void> {
  const report = d.report(kind, body);
  await d.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `${kind} ${report.msgId}`);
}

beforeAll(async () => {
  t = await startTestServer();
  [dev, other] = await Promise.all([t.enrollDevice("paging-box"), t.enrollDevice("fine-box")]);
  for (const d of [dev, other]) {
    const inv = inventoryBody();
    await publish(d, "inventory", { ...inv, memory: { ...inv.memory, totalBytes: 16 * GIB }, runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu"] } });
  }
  const res = await t.admin("/api/v1/catalog/import", {
    method: "POST",
    body: JSON.stringify({ name: "tiny-paging", version: "1", source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY }),
  });
  expect(res.status).toBe(201);
  const entry = ZCatalogEntryV1.parse(await res.json());
  expect((await t.admin(`/api/v1/catalog/${entry.id}/approve`, { method: "POST", body: JSON.stringify({ reason: "ok" }) })).status).toBe(200);
  await waitFor(async () => (await t.db.prisma.deviceCompatibility.count({ where: { entryId: entry.id, class: "cpu-only" } })) === 2 || null, "cpu-only rows");
});
afterAll(async () => t?.close());

describe("memory pressure measured by a device", () => {
  it("a model planned to fit that paged heavily is flagged in the fleet view and its class corrected for that device only", async () => {
    const body = metricsBody();
    await publish(dev, "metrics", { ...body, memoryPressure: [heavyWindow(true)] });

    const row = await waitFor(async () => {
      const r = await t.db.prisma.deviceCompatibility.findFirst({ where: { deviceId: dev.id, class: "does-not-fit" } });
      return r ?? null;
    }, "class corrected");
    expect(row.reason).toMatch(/^planned to fit, but paged heavily on this device \(measured\): 2048 MiB of the inference host is swapped out/);
    expect(await t.db.prisma.deviceCompatibility.findFirst({ where: { deviceId: other.id } })).toMatchObject({ class: "cpu-only" });
    expect(await t.db.prisma.auditLog.count({ where: { action: "catalog.memory_pressure" } })).toBe(1);

    const list = ZDeviceListV1.parse(await (await t.admin("/api/v1/devices?pageSize=10")).json());
    const byId = new Map(list.items.map((d) => [d.id, d]));
    expect(byId.get(dev.id)?.memoryPressure).toEqual([{ modelId: "tiny", sha256: TINY_SHA, reason: expect.stringMatching(/swapped out/), lastSeenAt: expect.any(String) }]);
    expect(byId.get(other.id)?.memoryPressure).toEqual([]);

    // the window's figures are kept with its metrics
    const view = ZRuntimeMetricsViewV1.parse(await (await t.admin(`/api/v1/devices/${dev.id}/runtime-metrics`)).json());
    expect(view.items[0]?.memoryPressure).toMatchObject({ heavy: true, majorFaultsPerSec: 1600, swapBytes: 2 * GIB });
  });

  it("paging of a model that was planned NOT to fit is not a correction (the plan already said so)", async () => {
    await publish(other, "metrics", { ...metricsBody(), memoryPressure: [heavyWindow(false)] });
    expect(await t.db.prisma.memoryPressureFlag.count({ where: { deviceId: other.id } })).toBe(0);
  });
});
