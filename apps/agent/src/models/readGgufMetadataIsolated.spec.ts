import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readGgufMetadata } from "./readGgufMetadata.js";
import { readGgufMetadataIsolated } from "./readGgufMetadataIsolated.js";
import { tempDir, TINY_MODEL } from "../testing/tempDir.js";

describe("readGgufMetadataIsolated", () => {
  it("reads in a child process exactly what the in-process reader reads, and reports bad files per file", async () => {
    const { dir, cleanup } = await tempDir();
    const garbage = path.join(dir, "garbage.gguf");
    await fs.writeFile(garbage, "not a gguf at all");
    const missing = path.join(dir, "missing.gguf");
    const results = await readGgufMetadataIsolated([TINY_MODEL, garbage, missing]);
    expect(results.get(TINY_MODEL)).toEqual({ gguf: await readGgufMetadata(TINY_MODEL), error: null });
    expect(results.get(TINY_MODEL)?.gguf?.architecture).toBe("llama");
    expect(results.get(garbage)).toMatchObject({ gguf: null, error: expect.stringContaining("cannot read GGUF header") });
    expect(results.get(missing)?.gguf).toBeNull();
    expect(results.get(missing)?.error).toBeTruthy();
    await cleanup();
  });

  it("starts no process when there is nothing to read", async () => {
    expect((await readGgufMetadataIsolated([])).size).toBe(0);
  });
});
