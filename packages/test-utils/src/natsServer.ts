import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./freePort.js";

export interface TestNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** stop the process (SIGTERM, then SIGKILL); JetStream data stays for a restart */
  stop(): Promise<void>;
  /** start again on the same port and store */
  start(): Promise<void>;
  /** stop and delete the store */
  dispose(): Promise<void>;
}

const NATS_BIN = process.env.NATS_SERVER_BIN ?? "nats-server";

/** Start a private nats-server with JetStream on a free port, for isolated and fault tests. */
export async function startNatsServer(opts: { port?: number; user?: string; pass?: string } = {}): Promise<TestNatsServer> {
  const port = opts.port ?? (await freePort());
  const storeDir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-nats-"));
  let child: ChildProcess | null = null;

  const start = async () => {
    if (child) return;
    const auth = opts.user ? ["--user", opts.user, "--pass", opts.pass ?? ""] : [];
    const proc = spawn(NATS_BIN, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, ...auth], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once("exit", (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`))),
    );
    await Promise.race([waitForPort(port, 10_000), exited]);
    // JetStream is ready slightly after the port opens; a short settle avoids "JetStream not enabled" races.
    await new Promise((r) => setTimeout(r, 150));
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    if (proc.exitCode !== null) return;
    const gone = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  };

  await start();
  return {
    /** with credentials in it when the server requires them */
    url: opts.user ? `nats://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.pass ?? "")}@127.0.0.1:${port}` : `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    dispose: async () => {
      await stop();
      await fs.rm(storeDir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => (sock.destroy(), resolve(true)));
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
