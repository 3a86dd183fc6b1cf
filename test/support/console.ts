import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "@fleet/test-utils";

const consoleDir = fileURLToPath(new URL("../../apps/console", import.meta.url));

/**
 * `next start` of the built console, pointed at a server. Needs `pnpm build` first (`pnpm test` does it).
 * The console holds no admin token: `adminToken` creates a viewer through the server's users API, and `cookie`
 * carries that viewer's session for requests to the console.
 */
export async function startConsole(serverUrl: string, adminToken: string): Promise<{ url: string; cookie: string; stop(): Promise<void> }> {
  if (!fs.existsSync(path.join(consoleDir, ".next", "BUILD_ID"))) {
    throw new Error("apps/console is not built: run `pnpm build` (pnpm test builds first)");
  }
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [path.join(consoleDir, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: consoleDir,
    env: { ...process.env, FLEET_ADMIN_TOKEN: "", FLEET_SERVER_URL: serverUrl, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url + "/")).status < 500, "the console to answer", 30_000, 200);
  return {
    url,
    cookie: `fleet_session=${await viewerSession(serverUrl, adminToken)}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

async function viewerSession(serverUrl: string, adminToken: string): Promise<string> {
  const created = await fetch(`${serverUrl}/api/v1/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ email: `viewer-${process.pid}-${Date.now()}@example.test`, role: "viewer" }),
  });
  if (created.status !== 201) throw new Error(`creating a console user failed: ${created.status} ${await created.text()}`);
  const { setupUrl } = (await created.json()) as { setupUrl: string };
  const setup = await fetch(`${serverUrl}/api/v1/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: new URL(setupUrl).searchParams.get("token"), password: `pw-${process.pid}-${Date.now()}-console` }),
  });
  if (setup.status !== 200) throw new Error(`setting the console user's password failed: ${setup.status} ${await setup.text()}`);
  return ((await setup.json()) as { token: string }).token;
}
