import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_TTL_MS, importPublicJwk, openCommand, ZBenchmarkListV1, ZBenchmarkRequestedV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import type { SimDevice } from "../testing/device-sim.js";
import { benchmarkBody } from "../testing/fixtures.js";

let t: TestServer;
let dev: SimDevice;
let other: SimDevice;
beforeAll(async () => {
  t = await startTestServer();
  [dev, other] = await Promise.all([t.enrollDevice("bench-1"), t.enrollDevice("bench-2")]);
});
afterAll(async () => t?.close());

async function nextCommand(d: SimDevice): Promise<Uint8Array> {
  // The device's own durable consumer, as the agent reads it (the server created it; devices may not create any).
  const consumer = await d.nc.jetstream().consumers.get(t.config.commandStream, `agent-${d.id}`);
  const msg = await consumer.next({ expires: 5_000 });
  if (!msg) throw new Error("no command arrived");
  return msg.data;
}

describe("benchmarks", () => {
  it("POST publishes a signed benchmark command the device verifies with the server key", async () => {
    const res = await t.admin(`/api/v1/devices/${dev.id}/benchmarks`, { method: "POST", body: JSON.stringify({ nPrompt: 64, nGen: 16, repetitions: 2 }) });
    expect(res.status).toBe(202);
    const requested = ZBenchmarkRequestedV1.parse(await res.json());
    expect(requested.deviceId).toBe(dev.id);

    const data = await nextCommand(dev);
    const serverKey = await importPublicJwk(dev.enrollment.serverPublicKeyJwk);
    const opened = await openCommand(data, serverKey, dev.id);
    expect(opened).toEqual({
      ok: true,
      value: { v: 1, commandId: requested.commandId, deviceId: dev.id, issuedAt: requested.issuedAt, expiresAt: expect.any(String), body: { type: "benchmark", modelId: null, nPrompt: 64, nGen: 16, repetitions: 2 } },
    });
    // it expires minutes after it was issued
    const lifetime = opened.ok ? Date.parse(opened.value.expiresAt) - Date.parse(opened.value.issuedAt) : 0;
    expect(lifetime).toBe(COMMAND_TTL_MS);
    expect(lifetime).toBeLessThanOrEqual(10 * 60_000);
    // another device must not accept it
    expect((await openCommand(data, serverKey, other.id)).ok).toBe(false);

    const run = await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { commandId: requested.commandId } });
    expect(run.status).toBe("requested");
    expect(await t.db.prisma.auditLog.count({ where: { action: "benchmark.requested", targetId: dev.id } })).toBe(1);

    // the device reports the result: the requested run is completed
    const report = dev.report("benchmark", benchmarkBody(requested.commandId));
    await dev.publish(report);
    await waitFor(async () => (await t.db.prisma.benchmarkRun.findUnique({ where: { commandId: requested.commandId } }))?.status === "completed", "run completed");
    const done = await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { commandId: requested.commandId } });
    expect(done.ppTokensPerSec).toBe(1500.5);
    expect(done.tgTokensPerSec).toBe(220.25);
    expect(await t.db.prisma.benchmarkRun.count({ where: { deviceId: dev.id } })).toBe(1);

    const list = ZBenchmarkListV1.parse(await (await t.admin(`/api/v1/devices/${dev.id}/benchmarks`)).json());
    expect(list.items).toHaveLength(1);
    expect(list.items[0]!.id).toBe(done.id);
    expect(list.items[0]!.result.generation?.mean).toBe(220.25);
  });

  it("an unrequested or failed benchmark is recorded as its own run", async () => {
    await other.publish(other.report("benchmark", benchmarkBody(null, false)));
    await waitFor(() => t.db.prisma.benchmarkRun.findFirst({ where: { deviceId: other.id } }), "run created");
    const run = await t.db.prisma.benchmarkRun.findFirstOrThrow({ where: { deviceId: other.id } });
    expect(run.status).toBe("failed");
    expect(run.commandId).toBeNull();
  });

  it("a device cannot complete another device's requested run", async () => {
    const res = await t.admin(`/api/v1/devices/${dev.id}/benchmarks`, { method: "POST", body: "{}" });
    const { commandId } = ZBenchmarkRequestedV1.parse(await res.json());
    const report = other.report("benchmark", benchmarkBody(commandId));
    await other.publish(report);
    await waitFor(() => t.db.prisma.processedMessage.findUnique({ where: { msgId: report.msgId } }), "stored");
    expect((await t.db.prisma.benchmarkRun.findUniqueOrThrow({ where: { commandId } })).status).toBe("requested");
  });

  it("refuses unknown devices (404), revoked devices (409) and bad settings (400)", async () => {
    expect((await t.admin(`/api/v1/devices/dev_nope/benchmarks`, { method: "POST", body: "{}" })).status).toBe(404);
    const bad = await t.admin(`/api/v1/devices/${dev.id}/benchmarks`, { method: "POST", body: JSON.stringify({ repetitions: 100 }) });
    expect(bad.status).toBe(400);
    const r = await t.enrollDevice("bench-revoked");
    await t.admin(`/api/v1/devices/${r.id}/revoke`, { method: "POST" });
    const res = await t.admin(`/api/v1/devices/${r.id}/benchmarks`, { method: "POST", body: "{}" });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("conflict");
  });
});
