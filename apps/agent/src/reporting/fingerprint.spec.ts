import os from "node:os";
import { describe, expect, it } from "vitest";
import { collectInventory } from "../inventory/collectInventory.js";
import { fingerprint } from "./fingerprint.js";

const GiB = 1024 ** 3;

describe("fingerprint", () => {
  it("ignores timestamps and small gauge movements, notices real changes", async () => {
    const inv = await collectInventory(os.tmpdir());
    const base = fingerprint("inventory", inv);
    const later = { ...inv, collectedAt: new Date(Date.now() + 60_000).toISOString(), memory: { ...inv.memory, freeBytes: inv.memory.freeBytes + 1000 } };
    expect(fingerprint("inventory", later)).toBe(base);
    const lessDisk = { ...inv, modelsDir: { ...inv.modelsDir, freeBytes: inv.modelsDir.freeBytes + 5 * GiB } };
    expect(fingerprint("inventory", lessDisk)).not.toBe(base);
    const newGpu = { ...inv, gpus: [...inv.gpus, { vendor: "NVIDIA", model: "RTX 4090", vramBytes: 24 * GiB, vramFreeBytes: null, driverVersion: null, bus: null }] };
    expect(fingerprint("inventory", newGpu)).not.toBe(base);
  });

  it("treats any change in the models list as a change", () => {
    const report = { modelsDir: "/m", models: [] };
    const withOne = { modelsDir: "/m", models: [{ path: "/m/a.gguf", fileName: "a.gguf", sizeBytes: 1, mtimeMs: 1, sha256: "0".repeat(64), gguf: null, error: "x" }] };
    expect(fingerprint("models", report)).toBe(fingerprint("models", { modelsDir: "/m", models: [] }));
    expect(fingerprint("models", withOne)).not.toBe(fingerprint("models", report));
  });
});
