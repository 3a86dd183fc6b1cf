import fs from "node:fs";

/**
 * Calls `onChange` (debounced) when something changes under `dir`. fs.watch is best effort (recursive is not
 * supported everywhere and a missing dir cannot be watched), so callers also rescan on an interval.
 */
export function watchDir(dir: string, debounceMs: number, onChange: () => void): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let watcher: fs.FSWatcher | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  };
  try {
    watcher = fs.watch(dir, { recursive: true, persistent: false }, fire);
  } catch {
    try {
      watcher = fs.watch(dir, { persistent: false }, fire);
    } catch {
      watcher = null; // no dir yet: the interval rescan covers it
    }
  }
  watcher?.on("error", () => {
    watcher?.close();
    watcher = null;
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
