import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZModelsReportV1 } from "@fleet/protocol";
import { tempDir, TINY_MODEL, TINY_MODEL_SHA256 } from "../testing/tempDir.js";
import { scanModels } from "./scanModels.js";

describe("scanModels", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let modelsDir: string;
  let cacheFile: string;

  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir());
    modelsDir = path.join(root, "models");
    cacheFile = path.join(root, "hash-cache.json");
    await fs.mkdir(path.join(modelsDir, "team", "nested"), { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(modelsDir, "tiny.gguf"));
    await fs.copyFile(TINY_MODEL, path.join(modelsDir, "team", "nested", "tiny-copy.GGUF"));
    await fs.writeFile(path.join(modelsDir, "team", "cut.gguf"), (await fs.readFile(TINY_MODEL)).subarray(0, 1000));
    // things that are not installed models
    await fs.writeFile(path.join(modelsDir, "download.gguf.partial"), "x");
    await fs.writeFile(path.join(modelsDir, ".hidden.gguf"), "x");
    await fs.writeFile(path.join(modelsDir, "notes.txt"), "x");
    await fs.symlink(modelsDir, path.join(modelsDir, "team", "loop")); // a symlink loop back to the root
  });
  afterEach(async () => cleanup());

  it("finds every model once, reads headers, reports unreadable ones with an error", async () => {
    const { report, hashed } = await scanModels(modelsDir, { cacheFile });
    expect(ZModelsReportV1.parse(report)).toEqual(report);
    const byName = Object.fromEntries(report.models.map((m) => [path.relative(modelsDir, m.path), m]));
    expect(Object.keys(byName).sort()).toEqual(["team/cut.gguf", "team/nested/tiny-copy.GGUF", "tiny.gguf"]);
    expect(hashed).toBe(3);
    expect(byName["tiny.gguf"]!.sha256).toBe(TINY_MODEL_SHA256);
    expect(byName["tiny.gguf"]!.gguf?.architecture).toBe("llama");
    expect(byName["team/nested/tiny-copy.GGUF"]!.sha256).toBe(TINY_MODEL_SHA256);
    const cut = byName["team/cut.gguf"]!;
    expect(cut.gguf).toBeNull();
    expect(cut.error).toMatch(/GGUF/);
    expect(cut.sizeBytes).toBe(1000);
  });

  it("never re-hashes an unchanged file, and re-hashes a changed one", async () => {
    expect((await scanModels(modelsDir, { cacheFile })).hashed).toBe(3);
    const again = await scanModels(modelsDir, { cacheFile });
    expect(again.hashed).toBe(0);
    expect(again.cached).toBe(3);
    expect(again.report.models.find((m) => m.fileName === "tiny.gguf")!.gguf?.tokenizer).toBe("llama");

    // replace one file's content (new inode, size and mtime): only that one is read again
    const file = path.join(modelsDir, "team", "cut.gguf");
    await fs.rm(file);
    await fs.copyFile(TINY_MODEL, file);
    const third = await scanModels(modelsDir, { cacheFile });
    expect(third.hashed).toBe(1);
    expect(third.report.models.find((m) => m.fileName === "cut.gguf")!.gguf?.architecture).toBe("llama");
  });

  it("lists a file it cannot read as unreadable, with the reason, instead of leaving it out", async () => {
    const file = path.join(modelsDir, "locked.gguf");
    if (process.getuid?.() === 0) {
      // root reads any mode: use a real file that fails on read (EIO at offset 0 of a process's own memory)
      await fs.symlink("/proc/self/mem", file);
    } else {
      await fs.copyFile(TINY_MODEL, file);
      await fs.chmod(file, 0o000);
    }
    const { report } = await scanModels(modelsDir, { cacheFile });
    expect(ZModelsReportV1.parse(report)).toEqual(report);
    expect(report.models.map((m) => m.fileName)).not.toContain("locked.gguf");
    expect(report.unreadable).toEqual([{ path: file, fileName: "locked.gguf", error: expect.stringMatching(/^cannot read the file to hash it: (EIO|EACCES)/) }]);
    // a readable scan has no unreadable list at all (older servers never see the field)
    await fs.rm(file);
    expect((await scanModels(modelsDir, { cacheFile })).report.unreadable).toBeUndefined();
  });

  it("returns an empty report for a missing models dir", async () => {
    const { report, hashed } = await scanModels(path.join(root, "absent"), { cacheFile });
    expect(report.models).toEqual([]);
    expect(hashed).toBe(0);
  });
});
