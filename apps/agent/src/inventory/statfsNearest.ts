import fs from "node:fs/promises";
import path from "node:path";

/**
 * Size and free space of the filesystem that holds `dir`, or would hold it: a models dir that does not
 * exist yet is measured at its nearest existing parent.
 */
export async function statfsNearest(dir: string): Promise<{ sizeBytes: number; freeBytes: number }> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const s = await fs.statfs(current);
      return { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch (err) {
      const parent = path.dirname(current);
      if (parent === current) throw err;
      current = parent;
    }
  }
}
