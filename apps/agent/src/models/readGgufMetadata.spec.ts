import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ZGgufMetadataV1 } from "@fleet/protocol";
import { tempDir, TINY_MODEL } from "../testing/tempDir.js";
import { GgufReadError, quantizationLabel, readGgufMetadata } from "./readGgufMetadata.js";

describe("readGgufMetadata", () => {
  it("reads the tiny llama header", async () => {
    const md = await readGgufMetadata(TINY_MODEL);
    expect(ZGgufMetadataV1.parse(md)).toEqual(md);
    expect(md).toMatchObject({
      ggufVersion: 3,
      name: "LLaMA v2",
      architecture: "llama",
      fileType: "MOSTLY_F16",
      quantization: "F16",
      contextLength: 4096,
      blockCount: 1,
      embeddingLength: 8,
      headCount: 2,
      headCountKv: 2,
      tokenizer: "llama",
      vocabSize: 32000,
      license: null,
    });
    // no general.parameter_count in this file: counted from tensor shapes (two 8 x 32000 matrices dominate)
    expect(md.parameterCount).toBeGreaterThan(2 * 8 * 32000);
    expect(md.parameterCount).toBeLessThan(2 * 8 * 32000 + 10_000);
  });

  it.each([
    ["MOSTLY_Q4_K_M", "Q4_K_M"],
    ["MOSTLY_Q8_0", "Q8_0"],
    ["ALL_F32", "F32"],
    ["MOSTLY_BF16", "BF16"],
    ["MOSTLY_IQ2_XXS", "IQ2_XXS"],
  ])("labels %s as %s", (fileType, label) => {
    expect(quantizationLabel(fileType)).toBe(label);
  });

  it("throws GgufReadError for a truncated header", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "cut.gguf");
      await fs.writeFile(file, (await fs.readFile(TINY_MODEL)).subarray(0, 600));
      await expect(readGgufMetadata(file)).rejects.toBeInstanceOf(GgufReadError);
    } finally {
      await cleanup();
    }
  });
});
