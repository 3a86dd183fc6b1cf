import fs from "node:fs/promises";
import { z } from "zod";
import { ZGgufMetadataV1, ZSha256Hex } from "@fleet/protocol";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

const ZEntry = z.object({
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  sha256: ZSha256Hex,
  gguf: ZGgufMetadataV1.nullable(),
  error: z.string().nullable(),
});
const ZCacheFile = z.object({ v: z.literal(1), entries: z.record(z.string(), ZEntry) });
export type HashCacheEntry = z.infer<typeof ZEntry>;

/**
 * <home>/hash-cache.json: what we learned about each model file, keyed by path and trusted only while
 * size, mtime and inode are unchanged, so an unchanged multi-GB file is never read again.
 */
export class HashCache {
  private entries = new Map<string, HashCacheEntry>();
  private dirty = false;

  constructor(private readonly file: string) {}

  /** Load from disk; a missing or corrupt cache is treated as empty (it is only a cache). */
  async load(): Promise<void> {
    this.entries.clear();
    const text = await fs.readFile(this.file, "utf8").catch(() => null);
    if (!text) return;
    try {
      const parsed = ZCacheFile.safeParse(JSON.parse(text));
      if (parsed.success) this.entries = new Map(Object.entries(parsed.data.entries));
    } catch {
      // corrupt cache: start over
    }
  }

  get(path: string, stat: { size: number; mtimeMs: number; ino: number }): HashCacheEntry | null {
    const e = this.entries.get(path);
    if (!e || e.size !== stat.size || e.mtimeMs !== stat.mtimeMs || e.ino !== stat.ino) return null;
    return e;
  }

  set(path: string, entry: HashCacheEntry): void {
    this.entries.set(path, entry);
    this.dirty = true;
  }

  /** Forget files that were not seen in the last scan. */
  retainOnly(paths: Set<string>): void {
    for (const p of [...this.entries.keys()]) {
      if (!paths.has(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify({ v: 1, entries: Object.fromEntries(this.entries) }), { mode: 0o600 });
    this.dirty = false;
  }
}
