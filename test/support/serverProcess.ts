import { fork } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, type TestNatsServer } from "@fleet/test-utils";
import { SimDevice } from "../../apps/server/src/testing/device-sim.js";
export { collectEvents } from "../../apps/server/src/testing/event-collector.js";
import { ADMIN_TOKEN } from "./server.js";

const serverMain = fileURLToPath(new URL("../../apps/server/dist/main.js", import.meta.url));

/** One fleet server as its own OS process (apps/server/dist/main.js, as in production). */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** pino JSON log of the process */
  logFile: string;
  /** resolves with the exit code (or signal name) once the process is gone */
  exited: Promise<number | string>;
  admin(p: string, init?: RequestInit): Promise<Response>;
  /** the Prometheus text of /metrics */
  metrics(): Promise<string>;
  /** send a signal (SIGKILL: no shutdown at all) and wait for the process to be gone */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Start `apps/server/dist/main.js` (build it first: `pnpm test` does) with `env`; `name` becomes its PostgreSQL
 * application_name, so a test can see which replica holds what in pg_locks / pg_stat_activity.
 */
export async function startServerProcess(name: string, env: Record<string, string>, dir: string): Promise<ServerProcess> {
  if (!fs.existsSync(serverMain)) throw new Error(`${serverMain} is missing: build the server first (npx turbo run build --filter=@fleet/server; pnpm test does)`);
  const logFile = path.join(dir, `${name}.log`);
  const out = fs.createWriteStream(logFile, { flags: "a" });
  const db = new URL(env.DATABASE_URL!);
  db.searchParams.set("application_name", name);
  const child = fork(serverMain, [], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.tmpdir(), HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env, DATABASE_URL: db.toString() },
    // not the test runner's flags (its "source" condition would load the workspace packages' TypeScript)
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  child.stderr!.pipe(out, { end: false });
  let pending = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 90 s (log: ${logFile})`)), 90_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out.write(chunk);
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes("fleet server listening")) continue;
        const { url } = JSON.parse(line) as { url: string };
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was listening (log: ${logFile})`));
    });
  });
  const admin = (p: string, init: RequestInit = {}) =>
    fetch(url + p, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) },
    });
  return {
    name,
    url,
    pid: child.pid!,
    logFile,
    exited,
    admin,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** What several replicas share: one database, one NATS (per-device auth), one server key, NATS keys and data dir. */
export interface ReplicaSet {
  db: TestDatabase;
  nats: TestNatsServer;
  dir: string;
  env: Record<string, string>;
  replicas: ServerProcess[];
  start(name: string): Promise<ServerProcess>;
  /** enroll a simulated device through `via` (a fresh token; its own keys and NATS user) */
  enrollDevice(via: ServerProcess, hostname: string): Promise<SimDevice>;
  close(): Promise<void>;
}

/** Shared NATS and database and a directory for the replicas' files and logs (kept when KEEP_REPLICA_LOGS is set). */
export async function startReplicaSet(extraEnv: Record<string, string> = {}): Promise<ReplicaSet> {
  const [db, nats, dir] = await Promise.all([createTestDatabase(), startNatsServer({ auth: "jwt" }), fsp.mkdtemp(path.join(os.tmpdir(), "fleet-replicas-"))]);
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
    FLEET_SERVER_KEY_FILE: path.join(dir, "server-key.json"),
    FLEET_DATA_DIR: path.join(dir, "data"),
    FLEET_NATS_KEYS_FILE: nats.keysFile!,
    FLEET_QUALITY_GATE: "off",
    ...extraEnv,
  };
  const replicas: ServerProcess[] = [];
  const devices: SimDevice[] = [];
  return {
    db,
    nats,
    dir,
    env,
    replicas,
    async start(name) {
      const p = await startServerProcess(name, env, dir);
      replicas.push(p);
      return p;
    },
    async enrollDevice(via, hostname) {
      const res = await via.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
      const { token } = (await res.json()) as { token: string };
      const d = await SimDevice.enroll(via.url, nats.url, token, hostname);
      devices.push(d);
      return d;
    },
    async close() {
      await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
      await Promise.all(replicas.map((r) => r.kill("SIGTERM")));
      await Promise.all([db.drop(), nats.dispose()]);
      if (!process.env.KEEP_REPLICA_LOGS) await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of a Prometheus counter's series (all labels) in a /metrics text. */
export function counterSum(metricsText: string, name: string): number {
  return metricsText
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}
