// The common setup of the fault tests: a database and a nats-server the test owns, the fleet server on them (its own
// process, as production runs it, or in this process), N load devices enrolled through its REST API, and a teardown
// that closes all of it, each step bounded so a stuck one is reported rather than holding the suite.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, type TestNatsServer } from "@fleet/test-utils";
import { ADMIN_TOKEN } from "./server.js";
import { closeLoadDevices, enrollLoadDevices, ReportLoad, type LoadDevice, type LoadOptions } from "./fleetLoad.js";
import { faultServerEnv, startServerInProcess, startServerProcess, type InProcessServer, type ServerProcess } from "./faultServer.js";
import { startPrivatePostgres, type PrivatePostgres } from "./privatePostgres.js";

type ServerKind = "process" | "in-process";

export interface FaultFleetOptions<D extends boolean, S extends ServerKind> {
  /** log tag and device hostname prefix, e.g. "fault-pg" */
  name: string;
  devices: number;
  /** a private PostgreSQL cluster the test may stop and start (default: a database on the shared one) */
  privateDatabase?: D;
  /** default "process": `node apps/server/dist/main.js` */
  server?: S;
  /** extra server environment (LOG_LEVEL defaults to "info" for a process, to its log file) */
  env?: Record<string, string>;
}

export interface FaultFleet<D extends boolean, S extends ServerKind> {
  db: D extends true ? PrivatePostgres : TestDatabase;
  nats: TestNatsServer;
  srv: S extends "in-process" ? InProcessServer : ServerProcess;
  /** the server's environment (key files, data dir) and, for a process, its log */
  dir: string;
  devices: LoadDevice[];
  deviceIds: string[];
  /** every device starts sending `reportsPerDevice` signed reports */
  startLoad(opts: LoadOptions): ReportLoad;
  /** closes the devices, the server, NATS and the database; each step bounded and reported when late */
  close(): Promise<void>;
}

export async function startFaultFleet<D extends boolean = false, S extends ServerKind = "process">(opts: FaultFleetOptions<D, S>): Promise<FaultFleet<D, S>> {
  const [db, nats] = await Promise.all([opts.privateDatabase ? startPrivatePostgres() : createTestDatabase(), startNatsServer()]);
  const inProcess = opts.server === "in-process";
  const setup = await faultServerEnv(db.url, nats, { ...(inProcess ? {} : { LOG_LEVEL: "info" }), ...opts.env });
  let srv: InProcessServer | ServerProcess | null = null;
  let devices: LoadDevice[] = [];
  const close = async () => {
    await bounded(opts.name, closeLoadDevices(devices), "closing the load devices' NATS connections");
    if (srv) await bounded(opts.name, srv.close(), "closing the server");
    if (process.env.KEEP_FAULT_LOGS) await fs.cp(setup.dir, path.join(os.tmpdir(), `${opts.name}-${Date.now()}`), { recursive: true });
    await Promise.allSettled([
      "drop" in db ? db.drop() : db.dispose(),
      nats.dispose(),
      fs.rm(setup.dir, { recursive: true, force: true }),
    ]);
  };
  try {
    srv = inProcess ? await startServerInProcess(setup.env) : await startServerProcess(setup.env, path.join(setup.dir, "server.log"));
    devices = await enrollLoadDevices(srv.url, nats.url, ADMIN_TOKEN, opts.devices, opts.name);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    db: db as FaultFleet<D, S>["db"],
    nats,
    srv: srv as FaultFleet<D, S>["srv"],
    dir: setup.dir,
    devices,
    deviceIds: devices.map((d) => d.id),
    startLoad: (load) => new ReportLoad(devices, load),
    close,
  };
}

/**
 * Waits for a teardown step at most `ms`, then reports it and goes on: the test's assertions have run by then, and a
 * stuck step must be seen, not hold the suite until the hook timeout. (Only a safety net: the server's close() bounds
 * its own steps, and a fault test asserts it completes.)
 */
export async function bounded(tag: string, p: Promise<void>, what: string, ms = 20_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  const outcome = await Promise.race([p.then(() => "done" as const, (err: unknown) => (console.error(`[${tag}] teardown: ${what} failed:`, err), "done" as const)), late]).finally(() => clearTimeout(timer));
  if (outcome === "late") console.error(`[${tag}] teardown: ${what} did not finish in ${ms / 1000} s; going on`);
}
