import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "@fleet/test-utils";

const consoleDir = fileURLToPath(new URL("../../apps/console", import.meta.url));

/** `next start` of the built console, pointed at a server. Needs `pnpm build` first (`pnpm test` does it). */
export async function startConsole(serverUrl: string, adminToken: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (!fs.existsSync(path.join(consoleDir, ".next", "BUILD_ID"))) {
    throw new Error("apps/console is not built: run `pnpm build` (pnpm test builds first)");
  }
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [path.join(consoleDir, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: consoleDir,
    env: { ...process.env, FLEET_SERVER_URL: serverUrl, FLEET_ADMIN_TOKEN: adminToken, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url + "/")).status < 500, "the console to answer", 30_000, 200);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}
