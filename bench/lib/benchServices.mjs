// Real services for a benchmark: a private database (cloned from the migrated template), a private nats-server,
// and the fleet server either in this process or as its own child process (so its CPU and RSS can be measured).
import { fork } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "../../prisma/dist/testing.js";
import { startNatsServer } from "../../packages/test-utils/dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

/** Database + nats-server + a temp dir; dispose() removes all three. */
export async function startInfra(prefix) {
  const [db, nats, dir] = await Promise.all([createTestDatabase(), startNatsServer(), fsp.mkdtemp(path.join(os.tmpdir(), `bench-${prefix}-`))]);
  return {
    db,
    nats,
    dir,
    env: (extra = {}) => ({
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      PORT: "0",
      FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      FLEET_SERVER_KEY_FILE: path.join(dir, "server-key.json"),
      // NATS runs with per-device identity, as `pnpm start` runs it
      ...(nats.keysFile ? { FLEET_NATS_KEYS_FILE: nats.keysFile } : {}),
      LOG_LEVEL: "info",
      // benchmarks approve unmeasured synthetic entries
      FLEET_QUALITY_GATE: "off",
      ...extra,
    }),
    async dispose() {
      await Promise.allSettled([db.drop(), nats.dispose()]);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The server in this process (its pino JSON lines go to `logFile`). */
export async function startServerInProcess(env, logFile) {
  const [{ createServer, parseEnv }, { pino }] = await Promise.all([import("../../apps/server/dist/app.js"), importFromServer("pino")]);
  const config = parseEnv(env);
  const logger = pino({ level: config.logLevel, base: { service: "fleet-server" } }, pino.destination({ dest: logFile, sync: false }));
  const server = await createServer(config, { logger });
  return { url: server.url, pid: process.pid, close: () => server.close() };
}

/**
 * The server as a child process (bench/lib/serverChild.mjs), as it runs in production: stdout (pino JSON) to
 * `logFile`. `execArgv` e.g. ["--cpu-prof", "--cpu-prof-dir=..."] to profile it.
 */
export async function startServerChild(env, logFile, execArgv = []) {
  const out = fs.openSync(logFile, "a");
  const child = fork(path.join(here, "serverChild.mjs"), [], { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", out, "inherit", "ipc"] });
  fs.closeSync(out);
  const url = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`server child exited with ${code} before it was ready`)));
  });
  const reply = (key) => new Promise((resolve) => child.on("message", function on(m) {
    if (m?.[key] === undefined) return;
    child.off("message", on);
    resolve(m[key]);
  }));
  return {
    url,
    pid: child.pid,
    /** CPU-profile the server from now until stopProfile(file) (node:inspector in the child). */
    async startProfile() {
      const ok = reply("profiling");
      child.send({ profile: "start" });
      await ok;
    },
    async stopProfile(file) {
      const done = reply("profiled");
      child.send({ profile: "stop", file });
      return done;
    },
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.send({ stop: true });
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** A package the server depends on, loaded from the server's own node_modules (bench does not list it). */
export async function importFromServer(name) {
  const { createRequire } = await import("node:module");
  const require = createRequire(path.join(here, "../../apps/server/package.json"));
  return import(require.resolve(name));
}

/** A one-time enrollment token from the admin API. */
export async function enrollmentToken(serverUrl) {
  const res = await fetch(`${serverUrl}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ttlSeconds: 600 }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`enrollment token: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}
