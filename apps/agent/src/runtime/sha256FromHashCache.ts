import { listKnownModels } from "../models/listKnownModels.js";

/** The runtime's sha256 lookup backed by the agent's hash cache: never hashes, null for files not hashed yet. */
export function sha256FromHashCache(modelsDir: string, cacheFile: string): (modelPath: string) => Promise<string | null> {
  return async (modelPath) => (await listKnownModels(modelsDir, cacheFile)).find((m) => m.path === modelPath)?.sha256 ?? null;
}
