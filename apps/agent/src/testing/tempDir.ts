import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A fresh temp dir and its cleanup. */
export async function tempDir(prefix = "fleet-agent-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** The tiny real GGUF every developer has at ../shared from the repo root. */
export const TINY_MODEL = path.resolve(import.meta.dirname, "../../../../../shared/models/llama-2-tiny-random.gguf");
export const TINY_MODEL_SHA256 = "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb";
