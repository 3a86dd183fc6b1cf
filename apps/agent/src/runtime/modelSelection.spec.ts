import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDeviceEventV1 } from "@fleet/protocol";
import { tempDir } from "../testing/tempDir.js";
import { createInferenceRuntime } from "./createInferenceRuntime.js";
import type { InferenceRuntime } from "./InferenceRuntime.js";
import { readKnownGood, writeKnownGood } from "./knownGood.js";
import { quietLogger, testRuntimeConfig, TINY_MODEL, writeSynthetic } from "./testing/runtimeFixtures.js";

const GiB = 1024 ** 3;
const TOKEN = "t".repeat(43);

/**
 * The five-file models dir of the bug report: the tiny model that served last time, 4 KB of garbage, a truncated copy
 * of the tiny model, a loadable synthetic 8B and a 70B (full vocab: loadable, but neither fits a 2 GiB budget). The
 * alphabetically first file (garbage.gguf) used to be chosen, fail, and leave nothing serving.
 */
describe("model selection and known-good (real inference host)", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let modelsDir: string;
  const runtimes: InferenceRuntime[] = [];

  async function start(home: string, events: TDeviceEventV1[]): Promise<InferenceRuntime> {
    const rt = await createInferenceRuntime({
      config: testRuntimeConfig({ memoryBudgetBytes: 2 * GiB, api: { port: 0 } }),
      modelsDir,
      apiToken: TOKEN,
      logger: quietLogger(),
      gpu: false,
      autoLoad: false,
      knownGoodFile: path.join(home, "known-good.json"),
      onEvent: (e) => events.push(e),
    });
    runtimes.push(rt);
    return rt;
  }

  async function offered(rt: InferenceRuntime): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${rt.localApiExposure().port}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id).sort();
  }

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    modelsDir = path.join(root, "models");
    await fs.mkdir(modelsDir);
    await fs.copyFile(TINY_MODEL, path.join(modelsDir, "tiny.gguf"));
    await fs.writeFile(path.join(modelsDir, "garbage.gguf"), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    const tiny = await fs.readFile(TINY_MODEL);
    await fs.writeFile(path.join(modelsDir, "truncated.gguf"), tiny.subarray(0, Math.floor(tiny.length * 0.6)));
    await writeSynthetic(path.join(modelsDir, "llama3-8b-q4_k_m.gguf"), "llama3-8b-q4_k_m", "full");
    await writeSynthetic(path.join(modelsDir, "llama3-70b-q4_k_m.gguf"), "llama3-70b-q4_k_m", "full");
    expect((await fs.readdir(modelsDir)).sort()[0]).toBe("garbage.gguf");
  });
  afterAll(async () => {
    for (const rt of runtimes) await rt.stop();
    await cleanup();
  });

  it("serves the persisted known-good model; invalid and non-fitting files are never tried nor offered", async () => {
    const home = path.join(root, "home-a");
    await writeKnownGood(path.join(home, "known-good.json"), { model: "tiny.gguf", sha256: null, sizeBytes: (await fs.stat(TINY_MODEL)).size });
    const events: TDeviceEventV1[] = [];
    const rt = await start(home, events);
    expect(await rt.loadConfigured()).toBe(true);
    expect(rt.status()).toMatchObject({ state: "ready", activeModel: "tiny.gguf" });
    expect(await offered(rt)).toEqual(["tiny.gguf"]);
    // only the tiny model was ever handed to llama.cpp
    expect(rt.takeMetrics()!.loads.map((l) => [l.modelId, l.ok])).toEqual([["tiny.gguf", true]]);
    expect(events.filter((e) => e.kind === "model.load.failed")).toEqual([]);

    const checks = Object.fromEntries((await rt.checkModels()).map((c) => [c.model.id, c.problem]));
    expect(checks["tiny.gguf"]).toBeNull();
    expect(checks["garbage.gguf"]).toMatch(/GGUF/i);
    expect(checks["truncated.gguf"]).toMatch(/truncated/);
    expect(checks["llama3-8b-q4_k_m.gguf"]).toMatch(/does not fit/);
    expect(checks["llama3-70b-q4_k_m.gguf"]).toMatch(/does not fit/);
    // naming an invalid file directly is refused before llama.cpp sees it; tiny keeps serving
    const bad = await rt.loadModel("garbage.gguf");
    expect(bad).toMatchObject({ ok: false, code: "invalid_model" });
    expect(rt.status().activeModel).toBe("tiny.gguf");
  });

  it("without a known-good record picks the best valid model that fits, records it, and serves it again after a restart", async () => {
    const home = path.join(root, "home-b");
    await fs.mkdir(home);
    const rt = await start(home, []);
    expect(await rt.loadConfigured()).toBe(true);
    expect(rt.status().activeModel).toBe("tiny.gguf");
    expect(rt.takeMetrics()!.loads.map((l) => l.modelId)).toEqual(["tiny.gguf"]);
    expect(await readKnownGood(path.join(home, "known-good.json"))).toMatchObject({ v: 1, model: "tiny.gguf" });
    await rt.stop();

    // a configured model that is invalid is refused with its reason, and the known-good serves instead
    const events: TDeviceEventV1[] = [];
    const again = await createInferenceRuntime({
      config: testRuntimeConfig({ memoryBudgetBytes: 2 * GiB, activeModel: "truncated.gguf", api: { enabled: false } }),
      modelsDir,
      apiToken: TOKEN,
      logger: quietLogger(),
      gpu: false,
      autoLoad: false,
      knownGoodFile: path.join(home, "known-good.json"),
      onEvent: (e) => events.push(e),
    });
    runtimes.push(again);
    expect(await again.loadConfigured()).toBe(true);
    expect(again.status().activeModel).toBe("tiny.gguf");
    expect(events.find((e) => e.kind === "model.load.refused")?.message).toMatch(/truncated\.gguf is not tried: .*truncated/);
    expect(again.takeMetrics()!.loads.map((l) => l.modelId)).toEqual(["tiny.gguf"]);
  });
});
