#!/usr/bin/env node
// One-command local start on embedded defaults: PostgreSQL (DATABASE_URL or embedded), NATS (NATS_URL or a
// nats-server from PATH), migrations, server, console and one enrolled local agent. Ctrl-C stops everything.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = path.resolve(process.env.FLEET_DATA_DIR ?? path.join(root, ".fleet"));
const children = [];
const cleanups = [];
let stopping = false;
let embeddedPgDir;

// `pnpm start | tee start.log` then Ctrl-C: tee dies first, and every later write to stdout fails with EPIPE. Without a
// handler that error killed this script before it stopped its children (detached, they ran on). Output is best-effort;
// stopping the children is not.
const broken = { stdout: false, stderr: false };
for (const name of ["stdout", "stderr"]) {
  process[name].on("error", (err) => {
    broken[name] = true;
    if (err.code !== "EPIPE" && !broken.stderr && name === "stdout") process.stderr.write(`[fleet] stdout: ${err.message}\n`);
  });
}
const out = (line) => {
  if (!broken.stdout) process.stdout.write(line + "\n");
};
const err = (line) => {
  if (!broken.stderr) process.stderr.write(line + "\n");
};
const log = (msg) => out(`[fleet] ${msg}`);
const fail = (msg) => {
  err(`[fleet] error: ${msg}`);
  void shutdown(1);
};

async function main() {
  // 0755: as root, the embedded PostgreSQL runs as its own user and must traverse this directory; secrets in it are 0600.
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  // Ctrl-C (the terminal's whole foreground group gets SIGINT, also pnpm and tee), kill, or a closed terminal.
  // A second signal while stopping kills what is left at once.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => (stopping ? killAll("SIGKILL") : void shutdown(0)));
  // Last resort, whatever ends this process (an uncaught error, process.exit): no child outlives it.
  process.on("exit", () => killAll("SIGKILL"));
  process.on("uncaughtException", (e) => fail(`unexpected: ${e instanceof Error ? e.stack : String(e)}`));

  if (process.env.FLEET_SKIP_BUILD !== "1") {
    log("building (cached after the first run)…");
    const b = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", NEXT_TELEMETRY_DISABLED: "1" } });
    if (b.status !== 0) return fail("build failed");
  }

  const db = await import(pathToFileURL(path.join(root, "prisma/dist/index.js")).href);
  const databaseUrl = process.env.DATABASE_URL ?? (await startEmbeddedPostgres(db));
  log("applying migrations…");
  await db.applyMigrations(databaseUrl);

  const natsUrl = process.env.NATS_URL ?? (await startNats());
  // Embedded NATS runs with per-device identity (operator mode); a NATS_URL of your own may too (FLEET_NATS_KEYS_FILE).
  const natsKeysFile = process.env.NATS_URL ? process.env.FLEET_NATS_KEYS_FILE : path.join(dataDir, "nats-keys.json");
  const adminToken = readOrCreateSecret(path.join(dataDir, "admin-token"));
  // read-only websocket token of the console's one shared upstream connection (the console never gets the admin token)
  const eventsToken = readOrCreateSecret(path.join(dataDir, "events-token"));

  const serverPort = Number(process.env.PORT ?? (await portOr(4100)));
  const consolePort = Number(process.env.CONSOLE_PORT ?? (await portOr(3000)));
  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const serverEnv = {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    PORT: String(serverPort),
    HOST: "127.0.0.1",
    FLEET_ADMIN_TOKEN: adminToken,
    FLEET_EVENTS_TOKEN: eventsToken,
    FLEET_CONSOLE_URL: consoleUrl,
    // the console (on loopback) names the browser's address in X-Forwarded-For: sign-in lockout per client address
    // then counts each browser, not the console as one client for everyone
    FLEET_TRUSTED_PROXY: process.env.FLEET_TRUSTED_PROXY ?? "loopback",
    FLEET_SERVER_KEY_FILE: path.join(dataDir, "server-key.json"),
    ...(natsKeysFile ? { FLEET_NATS_KEYS_FILE: natsKeysFile } : {}),
  };
  run("server", process.execPath, [path.join(root, "apps/server/dist/main.js")], serverEnv);
  await waitHttp(`${serverUrl}/health`, "server");
  const firstAdmin = createFirstAdmin(serverEnv);

  run("console", process.execPath, [path.join(root, "apps/console/node_modules/next/dist/bin/next"), "start", "-p", String(consolePort), "-H", "127.0.0.1"], {
    FLEET_SERVER_URL: serverUrl,
    FLEET_EVENTS_TOKEN: eventsToken,
    NEXT_TELEMETRY_DISABLED: "1",
  }, path.join(root, "apps/console"));

  const agentHome = path.join(dataDir, "agent");
  const modelsDir = path.resolve(process.env.FLEET_AGENT_MODELS_DIR ?? path.join(agentHome, "models"));
  seedModels(modelsDir);
  const agentCli = path.join(root, "apps/agent/dist/cli/main.js");
  // The NATS URL is passed on every start: with embedded defaults its port can change between runs.
  const agentEnv = { FLEET_AGENT_HOME: agentHome, FLEET_AGENT_MODELS_DIR: modelsDir, FLEET_NATS_URL: natsUrl };
  // An agent enrolled before NATS gave devices their own identity has no NATS user: enroll it again.
  const stale = natsKeysFile && fs.existsSync(path.join(agentHome, "state.json")) && !JSON.parse(fs.readFileSync(path.join(agentHome, "state.json"), "utf8")).natsCreds;
  if (stale || !fs.existsSync(path.join(agentHome, "state.json"))) {
    log(stale ? "enrolling the local agent again (it has no NATS identity yet)…" : "enrolling the local agent…");
    const { token, serverKeySha256 } = await createEnrollmentToken(serverUrl, adminToken);
    // The token goes through stdin (never argv, which `ps` shows) and the server's key is pinned to the one that just
    // issued it. Output through out()/err(): an inherited stdout may be a broken pipe by now (the child would die of EPIPE).
    const r = spawnSync(process.execPath, [agentCli, "enroll", "--server", serverUrl, "--token-file", "-", "--server-key-sha256", serverKeySha256, "--home", agentHome, ...(stale ? ["--force"] : [])], { input: `${token}\n`, stdio: ["pipe", "pipe", "pipe"], encoding: "utf8", env: { ...process.env, ...agentEnv } });
    for (const l of (r.stdout ?? "").split("\n")) if (l.trim()) out(`agent  | ${l}`);
    for (const l of (r.stderr ?? "").split("\n")) if (l.trim()) err(`agent  | ${l}`);
    if (r.status !== 0) return fail(`agent enrollment failed${r.error ? `: ${r.error.message}` : ""}`);
  }
  run("agent", process.execPath, [agentCli, "run", "--home", agentHome], agentEnv);
  await waitHttp(`http://127.0.0.1:${consolePort}/`, "console");

  out(`
  Fleetwise is running (data in ${dataDir}):
    console       ${consoleUrl}${firstAdmin ? `\n    first admin   ${firstAdmin.email}: set its password at (one-time, 24 h; also in ${firstAdmin.file})\n                  ${firstAdmin.setupUrl}` : ""}
    server API    ${serverUrl}/api/v1   (docs: ${serverUrl}/api/docs, metrics: ${serverUrl}/metrics)
    admin token   ${path.join(dataDir, "admin-token")}
    NATS          ${natsUrl}
    database      ${databaseUrl.replace(/:[^:@/]+@/, ":***@")}${embeddedPgDir ? ` (data in ${embeddedPgDir})` : ""}
    agent home    ${agentHome} (models: ${modelsDir})
  Ctrl-C stops everything.
`);
}

/**
 * On the first start (no user yet) create an admin and return its one-time setup link, also kept in a 0600 file of the
 * data directory; later starts create nothing (`fleet-server user setup-link --email admin@fleet.local` makes a new link).
 */
function createFirstAdmin(serverEnv) {
  const email = "admin@fleet.local";
  const r = spawnSync(process.execPath, [path.join(root, "apps/server/dist/cli.js"), "user", "create", "--email", email, "--role", "admin", "--name", "Admin", "--if-no-users", "--json"], { encoding: "utf8", env: { ...process.env, ...serverEnv } });
  if (r.status !== 0) {
    err(`[fleet] could not create the first admin: ${(r.stderr || r.error?.message || "").trim()}`);
    return null;
  }
  const result = JSON.parse(r.stdout);
  if (!result.created) return null;
  const file = path.join(dataDir, "first-admin-setup-link");
  fs.writeFileSync(file, result.setupUrl + "\n", { mode: 0o600 });
  return { email, setupUrl: result.setupUrl, file };
}

async function startEmbeddedPostgres(db) {
  const port = await portOr(54329);
  log(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in ${path.join(dataDir, "pg")})…`);
  const pg = await db.startEmbeddedPostgres({
    dataDir: path.join(dataDir, "pg"),
    port,
    // only our own notes (binaries copied, data dir relocated because the postgres user cannot reach this clone)
    onLog: (line) => line.startsWith("[fleet]") && log(line.slice(8).trim()),
  });
  cleanups.push(() => pg.stop());
  embeddedPgDir = pg.dataDir;
  return pg.url;
}

async function startNats() {
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  if (which.status !== 0) {
    throw new Error("nats-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install nats-server`; others: https://docs.nats.io) or set NATS_URL to a NATS server with JetStream.");
  }
  const port = await portOr(14222);
  const storeDir = path.join(dataDir, "nats");
  fs.mkdirSync(storeDir, { recursive: true });
  // Decentralized auth: the server owns the operator/account keys (0600) and writes the nats-server config for them;
  // every device then connects as its own user, limited to its own subjects.
  const authConf = path.join(dataDir, "nats-auth.conf");
  const cfg = spawnSync(process.execPath, [path.join(root, "apps/server/dist/cli.js"), "nats-config", "--keys", path.join(dataDir, "nats-keys.json"), "--out", authConf], { encoding: "utf8" });
  if (cfg.status !== 0) throw new Error(`fleet-server nats-config failed: ${(cfg.stderr || cfg.error?.message || "").trim()}`);
  log(`starting nats-server with JetStream and per-device identity on 127.0.0.1:${port}…`);
  run("nats", which.stdout.trim(), ["-c", authConf, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, "-l", path.join(dataDir, "nats.log")], {});
  await waitPort(port, "nats-server");
  return `nats://127.0.0.1:${port}`;
}

function seedModels(modelsDir) {
  fs.mkdirSync(modelsDir, { recursive: true });
  if (process.env.FLEET_AGENT_MODELS_DIR) return;
  const hasModel = fs.readdirSync(modelsDir).some((f) => f.endsWith(".gguf"));
  const seed = path.resolve(root, "../shared/models/llama-2-tiny-random.gguf");
  if (!hasModel && fs.existsSync(seed)) {
    fs.copyFileSync(seed, path.join(modelsDir, path.basename(seed)));
    log(`seeded ${modelsDir} with ${path.basename(seed)}`);
  }
}

async function createEnrollmentToken(serverUrl, adminToken) {
  const res = await fetch(`${serverUrl}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ttlSeconds: 600, note: "local agent (pnpm start)" }),
  });
  if (!res.ok) throw new Error(`creating an enrollment token failed: ${res.status} ${await res.text()}`);
  const { token, serverKeySha256 } = await res.json();
  return { token, serverKeySha256 };
}

function readOrCreateSecret(file) {
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
  return secret;
}

function run(name, cmd, args, env, cwd = root) {
  // detached: its own process group, so a terminal's Ctrl-C reaches only this script, which then stops the
  // children in reverse start order (agent and console before the server, the server before NATS).
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (line) => `${name.padEnd(7)}| ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    let buf = "";
    stream.on("data", (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const l of lines) if (l.trim()) out(prefix(l));
    });
  }
  child.on("exit", (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? code})`);
  });
  children.push({ name, child });
  return child;
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log("stopping…");
  for (const { child } of [...children].reverse()) {
    if (isRunning(child)) {
      const exited = new Promise((r) => {
        const t = setTimeout(() => (signalGroup(child, "SIGKILL"), r()), 8000);
        child.once("exit", () => (clearTimeout(t), r()));
      });
      signalGroup(child, "SIGTERM");
      await exited;
    }
  }
  for (const c of cleanups.reverse()) await c().catch(() => {});
  log("stopped.");
  process.exit(code);
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;

// Each child leads its own process group (detached): signal the group, so whatever it spawned stops with it.
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function killAll(signal) {
  for (const { child } of children) if (isRunning(child)) signalGroup(child, signal);
}

async function portOr(preferred) {
  const free = (port) =>
    new Promise((resolve) => {
      const s = net.createServer().once("error", () => resolve(false)).listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  if (await free(preferred)) return preferred;
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function waitPort(port, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((r) => net.connect(port, "127.0.0.1").once("connect", function () { this.destroy(); r(true); }).once("error", () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

async function waitHttp(url, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url}`);
}

main().catch((e) => fail(e instanceof Error ? e.message : String(e)));
