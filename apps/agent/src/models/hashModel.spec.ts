import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir, TINY_MODEL, TINY_MODEL_SHA256 } from "../testing/tempDir.js";
import { hashModel } from "./hashModel.js";

describe("hashModel", () => {
  it("streams the tiny model to its published sha256", async () => {
    expect(await hashModel(TINY_MODEL)).toBe(TINY_MODEL_SHA256);
  });

  it("matches an in-memory sha256 on a file larger than one read chunk", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      data.write("fleet", 1024 * 1024 + 3);
      const file = path.join(dir, "big.bin");
      await fs.writeFile(file, data);
      expect(await hashModel(file)).toBe(createHash("sha256").update(data).digest("hex"));
    } finally {
      await cleanup();
    }
  });

  it("rejects for a missing file", async () => {
    await expect(hashModel("/nonexistent/model.gguf")).rejects.toThrow(/ENOENT/);
  });
});
