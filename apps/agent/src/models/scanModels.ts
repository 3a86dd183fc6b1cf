import path from "node:path";
import type { TInstalledModelV1, TModelsReportV1, TUnreadableModelV1 } from "@fleet/protocol";
import { findModelFiles } from "./findModelFiles.js";
import { hashModel } from "./hashModel.js";
import { HashCache } from "./HashCache.js";
import { readGgufMetadataIsolated, type HeaderResult } from "./readGgufMetadataIsolated.js";

export const HASH_CACHE_FILE = "hash-cache.json";

export interface ScanModelsOptions {
  /** where the hash cache lives; usually <home>/hash-cache.json. Without it every file is hashed. */
  cacheFile?: string;
  /** header reader for new or changed files (default: node-llama-cpp's, in a child process) */
  readHeaders?: (files: string[]) => Promise<Map<string, HeaderResult>>;
  /** how a new or changed file is hashed (default: in process; the agent passes its background-priority hasher) */
  hash?: (file: string) => Promise<string>;
}

export interface ScanModelsResult {
  report: TModelsReportV1;
  /** how many files were read and hashed in this scan (0 on an unchanged rescan) */
  hashed: number;
  cached: number;
}

/**
 * List the GGUF models in `modelsDir` with their sha256 and header metadata. A file whose header cannot be read
 * is still listed, with gguf null and the reason in `error`. Unchanged files come from the hash cache.
 */
export async function scanModels(modelsDir: string, opts: ScanModelsOptions = {}): Promise<ScanModelsResult> {
  const cache = opts.cacheFile ? new HashCache(opts.cacheFile) : null;
  await cache?.load();
  const files = await findModelFiles(modelsDir);
  const models: TInstalledModelV1[] = [];
  const unreadable: TUnreadableModelV1[] = [];
  let hashed = 0;
  let cached = 0;
  const seen = new Set<string>();
  const listed = files.map((f) => {
    const key = { size: f.stat.size, mtimeMs: f.stat.mtimeMs, ino: f.stat.ino };
    return { f, key, entry: cache?.get(f.path, key) ?? null };
  });
  // Headers of new or changed files are read in one batch, before the loop (one child process per scan).
  const headers = await (opts.readHeaders ?? readGgufMetadataIsolated)(listed.filter((l) => !l.entry).map((l) => l.f.path));
  for (const { f, key, entry: cachedEntry } of listed) {
    seen.add(f.path);
    let entry = cachedEntry;
    if (entry) {
      cached++;
    } else {
      let sha256: string;
      try {
        sha256 = await (opts.hash ?? hashModel)(f.path);
      } catch (err) {
        // Vanished between listing and hashing: really gone. Anything else (EACCES, EIO) is a file that is still
        // there: report it as unreadable, or the server would take it for removed.
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
        unreadable.push({ path: f.path, fileName: path.basename(f.path), error: readErrorText(err) });
        continue;
      }
      hashed++;
      const header = headers.get(f.path) ?? { gguf: null, error: "GGUF header was not read" };
      entry = { ...key, sha256, gguf: header.gguf, error: header.error };
      cache?.set(f.path, entry);
    }
    models.push({
      path: f.path,
      fileName: path.basename(f.path),
      sizeBytes: f.stat.size,
      mtimeMs: f.stat.mtimeMs,
      sha256: entry.sha256,
      gguf: entry.gguf,
      error: entry.error,
    });
  }
  if (cache) {
    cache.retainOnly(seen);
    await cache.save();
  }
  const report: TModelsReportV1 = { modelsDir: path.resolve(modelsDir), models };
  if (unreadable.length > 0) report.unreadable = unreadable;
  return { report, hashed, cached };
}

function readErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  return `cannot read the file to hash it: ${code && !message.includes(code) ? `${code} ` : ""}${message}`.slice(0, 2000);
}
