import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { ADMIN_TOKEN } from "../support/server.js";
import { accountReports, closeLoadDevices, countByKind, enrollLoadDevices, ReportLoad, type LoadDevice } from "../support/fleetLoad.js";
import { faultServerEnv, metricValue, startServerProcess, type ServerProcess } from "../support/faultServer.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/privatePostgres.js";

const DEVICES = 30;
const REPORTS_PER_DEVICE = 40;

type Health = { checks: { database: { ok: boolean }; nats: { ok: boolean } } };

// PostgreSQL (a private cluster, never the shared one) is stopped in fast mode while 30 devices publish: JetStream
// keeps accepting, the server naks what it cannot commit and reconnects when the database is back, JetStream
// redelivers, and every report is stored exactly once. /health says the database is down, then ok again.
describe("fault: PostgreSQL restarted under ingest load", () => {
  let pg: PrivatePostgres;
  let nats: TestNatsServer;
  let srv: ServerProcess;
  let dir: string;
  let devices: LoadDevice[] = [];

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPrivatePostgres(), startNatsServer()]);
    const setup = await faultServerEnv(pg.url, nats, { LOG_LEVEL: "info" });
    dir = setup.dir;
    srv = await startServerProcess(setup.env, path.join(dir, "server.log"));
    devices = await enrollLoadDevices(srv.url, nats.url, ADMIN_TOKEN, DEVICES, "fault-pg");
  });
  afterAll(async () => {
    await closeLoadDevices(devices);
    // SIGTERM; after a database restart the server's shutdown can hang in Prisma's $disconnect (a pool connection
    // stays checked out), and main.ts exits 1 after 15 s: bounded either way
    await srv?.close();
    if (process.env.KEEP_FAULT_LOGS && dir) await fs.cp(dir, path.join(os.tmpdir(), `fault-pg-${Date.now()}`), { recursive: true });
    await Promise.allSettled([pg?.dispose(), nats?.dispose(), dir ? fs.rm(dir, { recursive: true, force: true }) : undefined]);
  });

  it("stores every report exactly once across the database restart", async () => {
    const load = new ReportLoad(devices, { reportsPerDevice: REPORTS_PER_DEVICE, intervalMs: 50 });
    await waitFor(() => load.acked >= load.total / 3, "a third of the reports acked before the restart", 60_000);

    await pg.stop();
    const down = await waitFor(async () => {
      const res = await fetch(`${srv.url}/health`);
      return res.status === 503 ? ((await res.json()) as Health) : null;
    }, "health to report the database down", 60_000);
    expect(down.checks.database.ok).toBe(false);
    // JetStream keeps taking reports while the database is away; the server asks for them again later
    const ackedAtStop = load.acked;
    await waitFor(() => load.acked >= ackedAtStop + 50, "reports acked by JetStream while the database is down", 60_000);
    await waitFor(async () => metricValue(await (await fetch(`${srv.url}/metrics`)).text(), "fleet_reports_retried_total") > 0, "a nak while the database is down", 60_000);
    await pg.start();

    await waitFor(async () => (await fetch(`${srv.url}/health`)).status === 200, "health back to ok", 60_000);
    await load.done;

    const ids = devices.map((d) => d.id);
    const acct = await waitFor(async () => {
      const a = await accountReports(pg.url, load.intended, ids);
      return a.lost.length === 0 ? a : null;
    }, `all ${load.total} reports in the database`, 90_000);
    expect(load.intended.size).toBe(DEVICES * REPORTS_PER_DEVICE);
    expect(acct.stored).toBe(load.total);
    expect(acct.duplicated).toBe(0);
    expect(acct.foreign).toBe(0);
    expect(acct.byKind).toEqual(countByKind(load.intended));
    expect(acct.perTable.Heartbeat).toBe(countByKind(load.intended).heartbeat);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    // nothing was given up as unstorable, and nothing refused
    expect(metricValue(metrics, "fleet_reports_rejected_total", { reason: "store_failed" })).toBe(0);
    console.log(`[fault postgres-restart] ${load.total} reports, ${metricValue(metrics, "fleet_reports_retried_total")} naked for redelivery, ${metricValue(metrics, "fleet_reports_duplicate_total")} duplicates ignored`);
  }, 180_000);
});
