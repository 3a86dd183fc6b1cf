import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ZRuntimeConfig, type RuntimeConfig } from "../config.js";

/** The real tiny LLaMA GGUF every runtime test uses (random weights, 1.7 MB). */
export const TINY_MODEL = fileURLToPath(new URL("../../../../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

/** A fresh models dir holding copies of the given files (copies: the runtime lists regular files only). */
export async function tempModelsDir(files: Record<string, string> = { "tiny.gguf": TINY_MODEL }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-rt-"));
  for (const [name, src] of Object.entries(files)) await fs.copyFile(src, path.join(dir, name));
  return dir;
}

/** Runtime config for tests: one thread (fastest for the tiny model), small context, no headroom. */
export function testRuntimeConfig(overrides: Record<string, unknown> = {}): RuntimeConfig {
  return ZRuntimeConfig.parse({ threads: 1, contextSize: 512, headroomBytes: 0, ...overrides });
}

export const quietLogger = () => pino({ level: "silent" });

/** /work/shared/tools/make-synthetic-gguf.mjs: realistic big GGUF headers over sparse holes. */
export const SYNTHETIC_GGUF_TOOL = fileURLToPath(new URL("../../../../../../shared/tools/make-synthetic-gguf.mjs", import.meta.url));

/** Write a synthetic model. With vocab "none" it is for estimates only: loading it aborts llama.cpp. */
export async function writeSynthetic(out: string, preset: string, vocab: "full" | "none"): Promise<void> {
  const tool = (await import(SYNTHETIC_GGUF_TOOL)) as { writeSyntheticGguf(out: string, preset: string, opts: { vocab: string }): unknown };
  await tool.writeSyntheticGguf(out, preset, { vocab });
}

/** Poll until `check` holds (small local helper: these waits are for the child process, not a server). */
export async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
