import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZBenchmarkResultV1, ZRuntimeMetricsV1, type TDeviceEventV1 } from "@fleet/protocol";
import { InferenceRuntime } from "./InferenceRuntime.js";
import { quietLogger, tempModelsDir, testRuntimeConfig, TINY_MODEL, until, writeSynthetic } from "./testing/runtimeFixtures.js";

const GiB = 1024 ** 3;

describe("InferenceRuntime on the tiny model (real node-llama-cpp in a child process)", () => {
  let dir: string;
  let runtime: InferenceRuntime;
  const events: TDeviceEventV1[] = [];

  beforeAll(async () => {
    dir = await tempModelsDir({ "tiny.gguf": TINY_MODEL, "tiny-copy.gguf": TINY_MODEL });
    // a truncated copy: the header reads fine, the tensor data is cut off
    const buf = await fs.readFile(TINY_MODEL);
    await fs.writeFile(path.join(dir, "truncated.gguf"), buf.subarray(0, 800_000));
    await fs.writeFile(path.join(dir, "garbage.gguf"), Buffer.alloc(4096, 7));
    // header of a real 8B Q4_K_M, no data: estimates only, never loaded (the plan refuses it first)
    await writeSynthetic(path.join(dir, "llama3-8b-q4_k_m.gguf"), "llama3-8b-q4_k_m", "none");
    runtime = new InferenceRuntime({
      // the active model is broken: the configured fallback must serve
      config: testRuntimeConfig({ activeModel: "truncated.gguf", fallbackModel: "tiny.gguf", memoryBudgetBytes: 2 * GiB }),
      modelsDir: dir,
      logger: quietLogger(),
      gpu: false,
      onEvent: (e) => events.push(e),
    });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("a broken active model is never tried: the configured fallback serves, and the refusal says why", async () => {
    expect(runtime.status().state).toBe("idle");
    expect(await runtime.loadConfigured()).toBe(true);
    expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
    expect(events.find((e) => e.kind === "model.load.refused")?.message).toMatch(/truncated\.gguf is not tried: .*truncated/i);
  });

  it("generates with TTFT/TPOT measured, and records the load with its plan", async () => {
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
    expect(m!.loads.map((l) => [l.modelId, l.ok])).toEqual([["tiny.gguf", true]]);
    const ok = m!.loads[0]!;
    expect(ok).toMatchObject({ backend: "cpu", gpuLayers: 0, contextSize: 512, quantization: "F16" });
    expect(ok.plan).toMatchObject({ fits: true, placement: "cpu", availableRamBytes: 2 * GiB });
    expect(ok.loadMs).toBeGreaterThan(0);
    expect(ok.peakRssBytes).toBeGreaterThan(0);
    expect(m!.models[0]).toMatchObject({ modelId: "tiny.gguf", requests: 2, errors: 0 });
    expect(m!.models[0]!.ttftMs!.p50).toBeGreaterThan(0);
    expect(m!.models[0]!.tpotMs!.p50).toBeGreaterThan(0);
  });

  it("a model too large for the memory budget is refused with an actionable message, without loading", async () => {
    const outcome = await runtime.loadModel("llama3-8b-q4_k_m.gguf");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe("does_not_fit");
    expect(outcome.reason).toMatch(/llama3-8b-q4_k_m\.gguf does not fit at context 512: it needs \d+\.\d\d GiB of RAM .* but 2\.00 GiB of RAM is free/);
    expect(outcome.reason).toMatch(/Use tiny(-copy)?\.gguf instead, which fits/);
    expect(outcome.plan).toMatchObject({ fits: false, placement: "cpu" });
    expect(outcome.plan!.breakdown.weightsBytes).toBeGreaterThan(4 * GiB);
    expect(events.find((e) => e.kind === "model.load.refused" && /llama3-8b/.test(e.message))?.message).toMatch(/does not fit.*tiny\.gguf keeps serving/);
    expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
  });

  it("truncated or garbage GGUFs fail to load and the previous model keeps serving", async () => {
    for (const bad of ["truncated.gguf", "garbage.gguf"]) {
      const outcome = await runtime.loadModel(bad);
      expect(outcome.ok).toBe(false);
      expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
    }
    expect(events.filter((e) => e.kind === "model.load.refused").at(-1)?.message).toMatch(/garbage\.gguf is not a usable GGUF: .*GGUF.*; tiny\.gguf keeps serving/);
    const r = await runtime.generate({ kind: "completion", prompt: "still here?" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
  });

  it("a load can be cancelled; the previous model keeps serving", async () => {
    const pending = runtime.loadModel("tiny-copy.gguf");
    await until(() => runtime.status().state === "loading");
    runtime.cancelLoad();
    const outcome = await pending;
    expect(outcome.ok === false && outcome.code).toBe("aborted");
    expect(runtime.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
  });

  it("the agent's event loop keeps ticking during a long generation", async () => {
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      // what a heartbeat reads
      runtime.status();
    }, 10);
    const t0 = performance.now();
    const r = await runtime.generate({ kind: "completion", prompt: "A long story:" }, { maxTokens: 1500 });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(r.outputTokens).toBeGreaterThan(500);
    expect(gaps.length).toBeGreaterThan(elapsed / 10 / 3);
    expect(Math.max(...gaps)).toBeLessThan(250);
  });

  it("a benchmark discloses what llama-bench does", async () => {
    const res = await runtime.runBenchmark({ type: "benchmark", modelId: null, nPrompt: 64, nGen: 16, repetitions: 2 }, "cmd-1");
    expect(ZBenchmarkResultV1.safeParse(res).success).toBe(true);
    expect(res).toMatchObject({ ok: true, commandId: "cmd-1", model: { id: "tiny.gguf", architecture: "llama", quantization: "F16" } });
    expect(res.settings).toMatchObject({ nPrompt: 64, nGen: 16, repetitions: 2, threads: 1, gpuLayers: 0, contextSize: 80, kvType: "f16", mmap: true });
    expect(res.promptProcessing!.samples).toHaveLength(2);
    expect(res.generation!.mean).toBeGreaterThan(0);
    expect(res.build.llamaCpp).toMatch(/llama\.cpp/);
    expect(res.hardware).toMatchObject({ backends: ["cpu"] });
    expect(res.hardware.powerMode.length).toBeGreaterThan(0);
    const other = await runtime.runBenchmark({ type: "benchmark", modelId: "tiny-copy.gguf", nPrompt: 8, nGen: 8, repetitions: 1 }, "cmd-2");
    expect(other).toMatchObject({ ok: false, error: expect.stringMatching(/serving model \(tiny\.gguf\)/) });
  });

  it("a SIGTERM or SIGINT sent to the whole process group leaves the host to the agent: it keeps serving", async () => {
    // a terminal's Ctrl-C or a service manager's stop signals the agent and its host at once; the host used to exit
    // on it, and the agent, still stopping, saw a crash and restarted it
    const pid = runtime.hostPid!;
    const crashes = events.filter((e) => e.kind === "runtime.host.crashed").length;
    process.kill(pid, "SIGTERM");
    process.kill(pid, "SIGINT");
    const r = await runtime.generate({ kind: "completion", prompt: "still here" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
    expect(runtime.hostPid).toBe(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(events.filter((e) => e.kind === "runtime.host.crashed").length).toBe(crashes);
  });

  it("if the inference host dies, it is restarted and the last good model reloaded", async () => {
    process.kill(runtime.hostPid!, "SIGKILL");
    await until(() => runtime.status().state !== "ready");
    await until(() => runtime.status().state === "ready", 60_000);
    expect(runtime.status().activeModel).toBe("tiny.gguf");
    expect(events.some((e) => e.kind === "runtime.host.crashed")).toBe(true);
    const r = await runtime.generate({ kind: "completion", prompt: "back" }, { maxTokens: 4 });
    expect(r.outputTokens).toBeGreaterThan(0);
  });
});
