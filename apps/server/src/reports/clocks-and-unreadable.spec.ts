import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_MAX_FUTURE_SKEW_MS, ZDeviceDetailV1, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { metricValue, modelEntry, modelsBody } from "../testing/fixtures.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

const detail = async (id: string) => ZDeviceDetailV1.parse(await (await t.admin(`/api/v1/devices/${id}`)).json());
async function publishAndWait(dev: SimDevice, report: TReportV1) {
  await dev.publish(report);
  await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), `report ${report.kind} stored`);
}

describe("device clocks", () => {
  it("refuses a report stamped in the future (clock_skew), and one clock jump does not freeze the model list", async () => {
    const dev = await t.enrollDevice("clock-jump");
    await publishAndWait(dev, dev.report("models", modelsBody([modelEntry("a.gguf")])));
    // the device clock jumps a day ahead for one report
    const ahead = dev.report("models", modelsBody([modelEntry("b.gguf")]), { sentAt: new Date(Date.now() + 86_400_000).toISOString() });
    await dev.publish(ahead);
    // a little ahead, within the tolerance: accepted
    const slightlyAhead = dev.report("models", modelsBody([modelEntry("c.gguf")]), { sentAt: new Date(Date.now() + REPORT_MAX_FUTURE_SKEW_MS / 2).toISOString() });
    await publishAndWait(dev, slightlyAhead);
    await waitFor(async () => metricValue(await t.metrics(), "fleet_reports_rejected_total", { reason: "clock_skew" }) === 1, "clock_skew counted");
    expect(await t.db.prisma.processedMessage.findUnique({ where: { msgId: ahead.msgId } })).toBeNull();
    expect((await detail(dev.id)).models.map((m) => m.fileName)).toEqual(["c.gguf"]);
    // the clock is back: a correctly stamped report (later than the accepted one) still applies
    await publishAndWait(dev, dev.report("models", modelsBody([modelEntry("d.gguf")]), { sentAt: new Date(Date.now() + REPORT_MAX_FUTURE_SKEW_MS / 2 + 1000).toISOString() }));
    expect((await detail(dev.id)).models.map((m) => m.fileName)).toEqual(["d.gguf"]);
  });
});

describe("models the agent cannot read", () => {
  it("keep their last known entry with the error instead of being marked removed", async () => {
    const dev = await t.enrollDevice("unreadable");
    await publishAndWait(dev, dev.report("models", modelsBody([modelEntry("a.gguf"), modelEntry("b.gguf", "b".repeat(64))])));
    const b = modelEntry("b.gguf");
    await publishAndWait(dev, dev.report("models", { ...modelsBody([modelEntry("a.gguf")]), unreadable: [{ path: b.path, fileName: b.fileName, error: "EACCES: permission denied" }] }));
    const models = (await detail(dev.id)).models;
    expect(models.map((m) => [m.fileName, m.sha256, m.error])).toEqual([
      ["a.gguf", modelEntry("a.gguf").sha256, null],
      ["b.gguf", "b".repeat(64), "unreadable: EACCES: permission denied"],
    ]);
    // readable again: the error clears; gone for real: removed
    await publishAndWait(dev, dev.report("models", modelsBody([modelEntry("a.gguf"), modelEntry("b.gguf", "b".repeat(64))])));
    expect((await detail(dev.id)).models.find((m) => m.fileName === "b.gguf")?.error).toBeNull();
    await publishAndWait(dev, dev.report("models", modelsBody([modelEntry("a.gguf")])));
    expect((await detail(dev.id)).models.map((m) => m.fileName)).toEqual(["a.gguf"]);
  });
});

describe("requested benchmark runs", () => {
  it("a run with no result past the deadline becomes failed when the device's runs are read", async () => {
    const dev = await t.enrollDevice("stale-run");
    const old = await t.db.prisma.benchmarkRun.create({ data: { deviceId: dev.id, commandId: randomUUID(), requestedAt: new Date(Date.now() - 3 * 3_600_000), status: "requested" } });
    const recent = await t.db.prisma.benchmarkRun.create({ data: { deviceId: dev.id, commandId: randomUUID(), requestedAt: new Date(), status: "requested" } });
    expect((await t.admin(`/api/v1/devices/${dev.id}/benchmarks`)).status).toBe(200);
    const oldRun = await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { id: old.id } });
    expect(oldRun.status).toBe("failed");
    expect(oldRun.result).toEqual({ error: "no result within 120 minutes of the request" });
    expect((await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { id: recent.id } })).status).toBe("requested");
  });

  it("a run the agent refused (busy, expired) fails as soon as its event arrives; a replay refusal does not fail it", async () => {
    const dev = await t.enrollDevice("refused-run");
    const request = async () => ((await (await t.admin(`/api/v1/devices/${dev.id}/benchmarks`, { method: "POST", body: "{}" })).json()) as { commandId: string }).commandId;
    const [busy, expired, replayed] = [await request(), await request(), await request()];
    const at = new Date().toISOString();
    const report = dev.report("events", {
      events: [
        { at, level: "warn", kind: "command.benchmark.busy", message: "benchmark refused: benchmark x is still running", data: { commandId: busy, running: "x" } },
        { at, level: "warn", kind: "command.refused", message: "refused a command: expired", data: { reason: "expired", detail: "expired at …", commandId: expired } },
        { at, level: "warn", kind: "command.refused", message: "refused a command: replayed", data: { reason: "replayed", detail: "already ran", commandId: replayed } },
      ],
    });
    await publishAndWait(dev, report);
    const status = async (commandId: string) => (await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { commandId } })).status;
    expect(await status(busy)).toBe("failed");
    expect(await status(expired)).toBe("failed");
    expect(await status(replayed)).toBe("requested");
    expect((await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { commandId: busy } })).result).toEqual({ error: "benchmark refused: benchmark x is still running" });
  });

  it("a command the broker does not take: the run is recorded as failed and the answer says so", async () => {
    const dev = await t.enrollDevice("no-broker");
    await t.nats.stop();
    try {
      const res = await t.admin(`/api/v1/devices/${dev.id}/benchmarks`, { method: "POST", body: "{}" });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/recorded as failed/);
      expect((await t.db.prisma.benchmarkRun.findFirstOrThrow({ where: { deviceId: dev.id } })).status).toBe("failed");
    } finally {
      await t.nats.start();
    }
  });
});
