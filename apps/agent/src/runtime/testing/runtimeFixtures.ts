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
