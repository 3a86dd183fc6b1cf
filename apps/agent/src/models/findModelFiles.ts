import fs from "node:fs/promises";
import path from "node:path";
import type { Stats } from "node:fs";

/** Names that are downloads in progress or scratch files, never models. */
const SKIP = /(\.partial|\.part|\.tmp|\.download|\.crdownload|~)$/i;

export interface ModelFile {
  path: string;
  stat: Stats;
}

/**
 * Every *.gguf under `dir`, recursively. Follows symlinks but visits each real directory once (dev+inode),
 * so a symlink loop ends; skips dotfiles and partial downloads. A missing dir yields nothing.
 */
export async function findModelFiles(dir: string, limit = 1000): Promise<ModelFile[]> {
  const found: ModelFile[] = [];
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  const walk = async (current: string): Promise<void> => {
    const st = await fs.stat(current).catch(() => null);
    if (!st?.isDirectory()) return;
    const key = `${st.dev}:${st.ino}`;
    if (seenDirs.has(key)) return;
    seenDirs.add(key);
    const entries = await fs.readdir(current, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (found.length >= limit) return;
      if (e.name.startsWith(".") || SKIP.test(e.name)) continue;
      const full = path.join(current, e.name);
      if (e.isDirectory() || e.isSymbolicLink()) {
        const target = await fs.stat(full).catch(() => null); // dangling link -> null
        if (!target) continue;
        if (target.isDirectory()) {
          await walk(full);
          continue;
        }
        if (!target.isFile()) continue;
        if (!/\.gguf$/i.test(e.name)) continue;
        addFile(full, target);
      } else if (e.isFile() && /\.gguf$/i.test(e.name)) {
        const s = await fs.stat(full).catch(() => null);
        if (s) addFile(full, s);
      }
    }
  };

  const addFile = (file: string, stat: Stats) => {
    // the same file reached through two links is one model
    const key = `${stat.dev}:${stat.ino}`;
    if (seenFiles.has(key)) return;
    seenFiles.add(key);
    found.push({ path: file, stat });
  };

  await walk(path.resolve(dir));
  return found;
}
