import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZBenchmarkResultV1, ZRuntimeMetricsV1, type TDeviceEventV1 } from "@fleet/protocol";
import { InferenceRuntime } from "./InferenceRuntime.js";
import { quietLogger, tempModelsDir, testRuntimeConfig, TINY_MODEL } from "./testing/runtimeFixtures.js";

describe("InferenceRuntime on the tiny model (real node-llama-cpp in a child process)", () => {
  let dir: string;
  let runtime: InferenceRuntime;
  const events: TDeviceEventV1[] = [];

  beforeAll(async () => {
    dir = await tempModelsDir({ "tiny.gguf": TINY_MODEL, "tiny-fallback.gguf": TINY_MODEL });
    // a truncated copy: the header reads fine, the tensor data is cut off
    const buf = await fs.readFile(TINY_MODEL);
    await fs.writeFile(path.join(dir, "truncated.gguf"), buf.subarray(0, 800_000));
    runtime = new InferenceRuntime({ config: testRuntimeConfig({ activeModel: "tiny.gguf" }), modelsDir: dir, logger: quietLogger(), gpu: false, onEvent: (e) => events.push(e) });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("loads the configured model, records the plan, and generates with TTFT/TPOT measured", async () => {
    expect(runtime.status().state).toBe("idle");
    expect(await runtime.loadConfigured()).toBe(true);
    expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
    const chunks: string[] = [];
    const r = await runtime.generate({ kind: "completion", prompt: "Hello there" }, { maxTokens: 24, temperature: 0 }, { onChunk: (t) => chunks.push(t) });
    expect(r.outputTokens).toBeGreaterThan(1);
    expect(r.promptTokens).toBeGreaterThan(0);
    expect(chunks.join("")).toBe(r.text);
    expect(r.ttftMs).toBeGreaterThan(0);
    expect(r.tpotMs).toBeGreaterThan(0);
    const chat = await runtime.generate({ kind: "chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }] }, { maxTokens: 8 });
    expect(chat.outputTokens).toBeGreaterThan(0);

    const m = runtime.takeMetrics();
    expect(ZRuntimeMetricsV1.safeParse(m).success).toBe(true);
    expect(m!.loads).toHaveLength(1);
    expect(m!.loads[0]).toMatchObject({ modelId: "tiny.gguf", ok: true, backend: "cpu", gpuLayers: 0, contextSize: 512, quantization: "F16" });
    expect(m!.loads[0]!.plan).toMatchObject({ fits: true, placement: "cpu" });
    expect(m!.loads[0]!.peakRssBytes).toBeGreaterThan(0);
    expect(m!.models[0]).toMatchObject({ modelId: "tiny.gguf", requests: 2, errors: 0 });
    expect(m!.models[0]!.ttftMs!.p50).toBeGreaterThan(0);
    expect(m!.models[0]!.tpotMs!.p50).toBeGreaterThan(0);
    expect(events.some((e) => e.kind === "model.loaded")).toBe(true);
  });

  it("a truncated GGUF fails to load, says why, and the previous model keeps serving", async () => {
    const outcome = await runtime.loadModel("truncated.gguf");
    expect(outcome.ok).toBe(false);
    expect(outcome.ok === false && outcome.code).toBe("load_failed");
    expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
    const ev = events.find((e) => e.kind === "model.load.failed");
    expect(ev?.message).toMatch(/truncated\.gguf not loaded: .*; tiny\.gguf keeps serving/);
    const r = await runtime.generate({ kind: "completion", prompt: "still here?" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
    const m = runtime.takeMetrics();
    expect(m!.loads[0]).toMatchObject({ modelId: "truncated.gguf", ok: false });
  });

  it("a benchmark discloses what llama-bench does", async () => {
    const res = await runtime.runBenchmark({ type: "benchmark", modelId: null, nPrompt: 64, nGen: 16, repetitions: 2 }, "cmd-1");
    expect(ZBenchmarkResultV1.safeParse(res).success).toBe(true);
    expect(res).toMatchObject({ ok: true, commandId: "cmd-1", model: { id: "tiny.gguf", architecture: "llama", quantization: "F16" } });
    expect(res.settings).toMatchObject({ nPrompt: 64, nGen: 16, repetitions: 2, threads: 1, gpuLayers: 0, contextSize: 80, kvType: "f16" });
    expect(res.promptProcessing!.samples).toHaveLength(2);
    expect(res.generation!.mean).toBeGreaterThan(0);
    expect(res.build.llamaCpp).toMatch(/llama\.cpp/);
    expect(res.hardware.backends).toContain("cpu");
  });
});
