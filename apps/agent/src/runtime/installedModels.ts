import fs from "node:fs/promises";
import path from "node:path";

export interface InstalledModelFile {
  /** the file name: the only way an API client may name a model */
  id: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

/** *.gguf files under modelsDir (recursive; dotfiles and partial downloads skipped; first name wins). */
export async function listInstalledModels(modelsDir: string): Promise<InstalledModelFile[]> {
  const out = new Map<string, InstalledModelFile>();
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(modelsDir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith(".") || !e.name.toLowerCase().endsWith(".gguf")) continue;
    const file = path.join(e.parentPath ?? modelsDir, e.name);
    // dot-directories hold downloads in progress and staging: never listed, never served
    if (path.relative(modelsDir, file).split(path.sep).some((part) => part.startsWith("."))) continue;
    if (out.has(e.name)) continue;
    const st = await fs.stat(file).catch(() => null);
    if (st) out.set(e.name, { id: e.name, path: file, sizeBytes: st.size, mtimeMs: st.mtimeMs });
  }
  return [...out.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export type ModelLookup = { ok: true; model: InstalledModelFile } | { ok: false; reason: "path" | "unknown" };

/** Looks like a file system path rather than a model name (separators, drive letters, ~, ..). */
export function looksLikePath(name: string): boolean {
  return /[\\/]/.test(name) || /^[A-Za-z]:/.test(name) || name.startsWith("~") || name.includes("..") || name.includes("\0");
}

/** A model by id ("x.gguf") or by id without the extension ("x"); never by path. */
export function findInstalledModel(name: string, installed: InstalledModelFile[]): ModelLookup {
  if (looksLikePath(name)) return { ok: false, reason: "path" };
  const model = installed.find((m) => m.id === name || m.id === `${name}.gguf`);
  return model ? { ok: true, model } : { ok: false, reason: "unknown" };
}
