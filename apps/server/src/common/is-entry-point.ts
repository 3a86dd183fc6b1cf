import fs from "node:fs";
import { fileURLToPath } from "node:url";

/** True when this module is the script node was started with (bin symlinks resolved). */
export function isEntryPoint(moduleUrl: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
