import fs from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The inference host entry and the Node flags to run it: the built .js next to this file, or, when the
 * agent runs from TypeScript source (tests, tsx), the .ts file through tsx with the "source" condition.
 */
export function resolveHostEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./host/inferenceHost.js", import.meta.url));
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL("./host/inferenceHost.ts", import.meta.url));
  return { file: ts, execArgv: ["--import", import.meta.resolve("tsx"), "--conditions=source"] };
}
