import { findModelFiles } from "./findModelFiles.js";
import { HashCache } from "./HashCache.js";

export interface KnownModel {
  path: string;
  sizeBytes: number;
  /** null when the agent has not hashed this version of the file yet */
  sha256: string | null;
  architecture: string | null;
  quantization: string | null;
  error: string | null;
}

/** The models on disk with what the hash cache knows about them; reads no model data (for `status`). */
export async function listKnownModels(modelsDir: string, cacheFile: string): Promise<KnownModel[]> {
  const cache = new HashCache(cacheFile);
  await cache.load();
  const files = await findModelFiles(modelsDir);
  return files.map((f) => {
    const e = cache.get(f.path, { size: f.stat.size, mtimeMs: f.stat.mtimeMs, ino: f.stat.ino });
    return {
      path: f.path,
      sizeBytes: f.stat.size,
      sha256: e?.sha256 ?? null,
      architecture: e?.gguf?.architecture ?? null,
      quantization: e?.gguf?.quantization ?? null,
      error: e?.error ?? null,
    };
  });
}
