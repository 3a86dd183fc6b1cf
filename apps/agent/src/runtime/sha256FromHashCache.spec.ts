import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scanModels } from "../models/scanModels.js";
import { TINY_MODEL_SHA256 } from "../testing/tempDir.js";
import { InferenceRuntime } from "./InferenceRuntime.js";
import { sha256FromHashCache } from "./sha256FromHashCache.js";
import { quietLogger, tempModelsDir, testRuntimeConfig } from "./testing/runtimeFixtures.js";

describe("sha256FromHashCache", () => {
  it("knows a model the agent has scanned, and nothing else, without hashing", async () => {
    const dir = await tempModelsDir();
    const cacheFile = path.join(dir, ".hash-cache.json");
    const lookup = sha256FromHashCache(dir, cacheFile);
    // the runtime lists the same path the scanner caches
    const [installed] = await new InferenceRuntime({ config: testRuntimeConfig(), modelsDir: dir, logger: quietLogger() }).installedModels();
    expect(await lookup(installed!.path)).toBeNull();
    await scanModels(dir, { cacheFile });
    expect(await lookup(installed!.path)).toBe(TINY_MODEL_SHA256);
    expect(await lookup(path.join(dir, "other.gguf"))).toBeNull();
    await fs.rm(dir, { recursive: true, force: true });
  });
});
