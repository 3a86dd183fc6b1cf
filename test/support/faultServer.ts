// The fleet server for fault tests, on infrastructure the test owns (a private PostgreSQL or nats-server it stops and
// starts), either in this process or as its own process (`node apps/server/dist/main.js`, as production runs it,
// so it can be SIGKILLed and its RSS read from /proc).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, parseEnv, type FleetServer } from "@fleet/server";
import { freePort, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { ADMIN_TOKEN } from "./server.js";

export { metricValue } from "../../apps/server/src/testing/fixtures.js";

const SERVER_MAIN = fileURLToPath(new URL("../../apps/server/dist/main.js", import.meta.url));

/** The server's environment: the test's database and NATS, a key dir of its own, REST limits lifted for enrolling a fleet. */
export async function faultServerEnv(databaseUrl: string, nats: TestNatsServer, extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; dir: string }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "fleet-fault-server-"));
  return {
    dir,
    env: {
      DATABASE_URL: databaseUrl,
      NATS_URL: nats.url,
      HOST: "127.0.0.1",
      PORT: "0",
      FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
      FLEET_SERVER_KEY_FILE: path.join(dir, "server-key.json"),
      FLEET_DATA_DIR: path.join(dir, "data"),
      ...(nats.keysFile ? { FLEET_NATS_KEYS_FILE: nats.keysFile } : {}),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      FLEET_QUALITY_GATE: "off",
      ENROLL_RATE_LIMIT_PER_MIN: "100000",
      RATE_LIMIT_PER_MIN: "100000",
      ...extra,
    },
  };
}

export interface InProcessServer {
  server: FleetServer;
  url: string;
  close(): Promise<void>;
}

/** createServer() in this process with its own Prisma client on `env.DATABASE_URL` (nothing shared with the test). */
export async function startServerInProcess(env: Record<string, string>): Promise<InProcessServer> {
  const server = await createServer(parseEnv(env));
  return { server, url: server.url, close: () => server.close() };
}

export interface ServerProcess {
  url: string;
  /** pid of the running process (changes on restart) */
  readonly pid: number;
  /** the process's stdout (pino JSON at LOG_LEVEL) and stderr */
  logFile: string;
  /** start again (same port, same environment) after kill() */
  start(): Promise<void>;
  /** SIGKILL: no shutdown hook runs, in-flight batches are neither committed nor acked */
  kill(): Promise<void>;
  /** RSS in bytes from /proc/<pid>/status */
  rssBytes(): number;
  /** SIGTERM (graceful), SIGKILL after 20 s */
  close(): Promise<void>;
}

/**
 * `node apps/server/dist/main.js` (the build: `pnpm test` builds first) with `env` on a fixed free port, ready once
 * /health answers 200.
 */
export async function startServerProcess(env: Record<string, string>, logFile: string): Promise<ServerProcess> {
  const port = env.PORT && env.PORT !== "0" ? Number(env.PORT) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) throw new Error("the server process is already running");
    const out = fs.openSync(logFile, "a");
    const proc = spawn(process.execPath, [SERVER_MAIN], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child = proc;
    const exited = new Promise<never>((_, reject) => proc.once("exit", (code, signal) => reject(new Error(`server exited (${code ?? signal}) before it was ready; see ${logFile}`))));
    exited.catch(() => undefined);
    await Promise.race([waitFor(async () => (await fetch(`${url}/health`)).status === 200, `the server on ${url} to be healthy`, 90_000), exited]);
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    await gone;
    clearTimeout(timer);
  };
  await start();
  return {
    url,
    get pid() {
      if (!child?.pid) throw new Error("the server process is not running");
      return child.pid;
    },
    logFile,
    start,
    kill: () => stopWith("SIGKILL"),
    rssBytes() {
      if (!child?.pid) throw new Error("the server process is not running");
      const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (!kb) throw new Error(`no VmRSS in /proc/${child.pid}/status`);
      return Number(kb[1]) * 1024;
    },
    close: () => stopWith("SIGTERM"),
  };
}
