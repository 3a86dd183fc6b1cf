import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { credsAuthenticator, type ConnectionOptions } from "nats";
import { freePort } from "./freePort.js";
import { createTestNatsAuth } from "./natsAuth.js";

export interface TestNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /**
   * With decentralized auth (the default): the fleet server's FLEET_NATS_KEYS_FILE, and the server user's creds
   * (everything in the fleet account); null when the server runs without auth or with user/pass.
   */
  keysFile: string | null;
  serverCreds: string | null;
  /** options to connect as the fleet server's user (or anonymously without auth): `connect(nats.connectOptions())` */
  connectOptions(): ConnectionOptions;
  /** with decentralized auth, a user JWT for this public nkey limited to `permissions` (e.g. devicePermissions()); else null */
  userJwt(userPublicKey: string, permissions: { pub: { allow: string[] }; sub: { allow: string[] } }): Promise<string | null>;
  /** stop the process (SIGTERM, then SIGKILL); JetStream data stays for a restart */
  stop(): Promise<void>;
  /** start again on the same port and store */
  start(): Promise<void>;
  /** stop and delete the store */
  dispose(): Promise<void>;
}

const NATS_BIN = process.env.NATS_SERVER_BIN ?? "nats-server";
/** FLEET_TEST_NATS_AUTH=none runs every test NATS without auth (to compare, or to debug with a plain client). */
const DEFAULT_AUTH: "jwt" | "none" = process.env.FLEET_TEST_NATS_AUTH === "none" ? "none" : "jwt";

export interface StartNatsServerOptions {
  port?: number;
  /** user/password auth instead (the URL then carries them) */
  user?: string;
  pass?: string;
  /** "jwt" (default): operator mode, as `pnpm start` runs it (every device its own user); "none": anyone may connect */
  auth?: "jwt" | "none";
}

/** Start a private nats-server with JetStream on a free port, for isolated and fault tests. */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<TestNatsServer> {
  const port = opts.port ?? (await freePort());
  const storeDir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-nats-"));
  let child: ChildProcess | null = null;
  const jwtAuth = !opts.user && (opts.auth ?? DEFAULT_AUTH) === "jwt" ? await createTestNatsAuth() : null;
  // Beside the JetStream data (which nats-server keeps under <storeDir>/jetstream): removed by dispose().
  const keysFile = jwtAuth ? path.join(storeDir, "nats-keys.json") : null;
  const configFile = path.join(storeDir, "auth.conf");
  if (jwtAuth) {
    await fs.writeFile(keysFile!, jwtAuth.keysJson, { mode: 0o600 });
    await fs.writeFile(configFile, jwtAuth.config, { mode: 0o600 });
  }

  const start = async () => {
    if (child) return;
    const auth = opts.user ? ["--user", opts.user, "--pass", opts.pass ?? ""] : jwtAuth ? ["-c", configFile] : [];
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
  const url = opts.user ? `nats://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.pass ?? "")}@127.0.0.1:${port}` : `nats://127.0.0.1:${port}`;
  return {
    /** with credentials in it when the server requires user/password */
    url,
    port,
    storeDir,
    keysFile,
    serverCreds: jwtAuth?.serverCreds ?? null,
    connectOptions: () => ({
      servers: `nats://127.0.0.1:${port}`,
      ...(opts.user ? { user: opts.user, pass: opts.pass ?? "" } : {}),
      ...(jwtAuth ? { authenticator: credsAuthenticator(new TextEncoder().encode(jwtAuth.serverCreds)) } : {}),
    }),
    userJwt: async (userPublicKey, permissions) => (jwtAuth ? jwtAuth.userJwt(userPublicKey, permissions) : null),
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
