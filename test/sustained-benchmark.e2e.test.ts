import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZBenchmarkListV1, ZBenchmarkRequestedV1, ZDeviceDetailV1, ZRuntimeMetricsViewV1 } from "@fleet/protocol";
import { ResourceGovernor, ZResourcesConfig } from "@fleet/agent";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "./support/server.js";
import { startRealAgent, type RealAgent } from "./support/realAgent.js";

// Issue 16 end to end: a real agent (tiny model, its own inference host) runs a sustained benchmark the server
// asked for; the result with its per-window samples, sensors and throttling verdict is stored and served by REST;
// the load's memory pressure and the resource policy it applied reach the server too.
describe("sustained benchmark and resource reporting, real agent and server", () => {
  let srv: TestServer;
  let agent: RealAgent;

  beforeAll(async () => {
    srv = await startTestServer();
    agent = await startRealAgent(srv, "sustained-ws", "lab", {
      governor: (runtime) =>
        new ResourceGovernor({ config: ZResourcesConfig.parse({ policy: { maxInferenceThreads: 1, backgroundNice: 12 } }), onThreadsCap: (cap) => runtime.setThreadsCap(cap) }),
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await srv?.close();
  });

  it("a 4-second sustained run: tokens/s every second, sensors null with a reason where absent, throttling verdict, full disclosure", async () => {
    const res = await srv.admin(`/api/v1/devices/${agent.state.deviceId}/benchmarks`, {
      method: "POST",
      body: JSON.stringify({ nPrompt: 16, nGen: 8, repetitions: 1, mode: "sustained", durationSec: 4, sampleIntervalSec: 1, throttleDropPct: 15 }),
    });
    expect(res.status).toBe(202);
    const { commandId } = ZBenchmarkRequestedV1.parse(await res.json());
    await waitFor(async () => (await srv.db.prisma.benchmarkRun.findUnique({ where: { commandId } }))?.status === "completed" || null, "sustained run completed", 30_000);

    const list = ZBenchmarkListV1.parse(await (await srv.admin(`/api/v1/devices/${agent.state.deviceId}/benchmarks`)).json());
    const r = list.items[0]!.result;
    expect(r).toMatchObject({ commandId, ok: true, settings: { threads: 1, gpuLayers: 0 }, model: { id: "llama-2-tiny-random.gguf" } });
    const s = r.sustained!;
    expect(s.durationSec).toBeGreaterThanOrEqual(3.9);
    expect(s.samples.length).toBeGreaterThanOrEqual(3);
    for (const x of s.samples) expect(x.tokensPerSecond).toBeGreaterThan(0);
    for (const sensor of [s.sensors.cpuFrequency, s.sensors.cpuTemperature]) {
      if (!sensor.available) expect(sensor.reason).toMatch(/^sensors unavailable/);
    }
    if (!s.sensors.cpuTemperature.available) expect(s.samples.every((x) => x.cpuTempC === null)).toBe(true);
    expect(s.powerAtStart.source === null ? s.powerAtStart.reason : s.powerAtStart.source).toBeTruthy();
    expect(s.throttling).toMatchObject({ thresholdPct: 15, windowSec: 1.33 });
    expect(s.throttling.baselineTokensPerSecond).toBeGreaterThan(0);
    expect(s.throttling.summary).toMatch(/throttling: /);
  });

  it("the load's memory pressure and the applied resource policy reach the server", async () => {
    const load = await waitFor(async () => {
      const view = ZRuntimeMetricsViewV1.parse(await (await srv.admin(`/api/v1/devices/${agent.state.deviceId}/runtime-metrics`)).json());
      return view.loads.find((l) => l.memoryPressure) ?? null;
    }, "a load with memory pressure", 20_000);
    expect(load.memoryPressure).toMatchObject({ scope: "load", plannedToFit: true, heavy: false, modelId: "llama-2-tiny-random.gguf" });
    expect(load.memoryPressure!.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(load.memoryPressure!.majorFaults).not.toBeNull();

    const detail = ZDeviceDetailV1.parse(await (await srv.admin(`/api/v1/devices/${agent.state.deviceId}`)).json());
    expect(detail.posture?.posture.resources).toMatchObject({ inferenceThreadsCap: 1, maxInferenceThreads: 1, background: { nice: 12 }, policyVersion: null });
    expect(detail.device.memoryPressure).toEqual([]);
  });
});
