import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { ADMIN_TOKEN } from "../support/server.js";
import { accountReports, closeLoadDevices, countByKind, enrollLoadDevices, ReportLoad, type LoadDevice } from "../support/fleetLoad.js";
import { faultServerEnv, startServerProcess, type ServerProcess } from "../support/faultServer.js";

const DEVICES = 30;
const REPORTS_PER_DEVICE = 40;

// The server process (apps/server/dist/main.js, as production runs it) is SIGKILLed while 30 devices publish and
// ingest is busy: batches in flight are neither committed nor acked. JetStream keeps accepting reports; the restarted
// server pulls the backlog, JetStream redelivers what the dead one never acked (after the consumer's ack_wait), the
// ones it had committed but not acked dedupe on ProcessedMessage, and every report is stored exactly once.
describe("fault: server killed under ingest load and restarted", () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let srv: ServerProcess;
  let dir: string;
  let devices: LoadDevice[] = [];

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), startNatsServer()]);
    const setup = await faultServerEnv(db.url, nats, { LOG_LEVEL: "info" });
    dir = setup.dir;
    srv = await startServerProcess(setup.env, path.join(dir, "server.log"));
    devices = await enrollLoadDevices(srv.url, nats.url, ADMIN_TOKEN, DEVICES, "fault-kill");
  });
  afterAll(async () => {
    await closeLoadDevices(devices);
    await srv?.close();
    if (process.env.KEEP_FAULT_LOGS && dir) await fs.cp(dir, path.join(os.tmpdir(), `fault-kill-${Date.now()}`), { recursive: true });
    await Promise.allSettled([db?.drop(), nats?.dispose(), dir ? fs.rm(dir, { recursive: true, force: true }) : undefined]);
  });

  it("stores every report exactly once across the kill and restart", async () => {
    const load = new ReportLoad(devices, { reportsPerDevice: REPORTS_PER_DEVICE, intervalMs: 50 });
    const ids = devices.map((d) => d.id);
    const storedCount = () => db.prisma.processedMessage.count({ where: { deviceId: { in: ids } } });
    // kill it while it is busy storing: a third acked by JetStream and some already in the database
    await waitFor(async () => load.acked >= load.total / 3 && (await storedCount()) > 0, "ingest under way", 60_000);
    const killedPid = srv.pid;
    await srv.kill();
    const storedAtKill = await storedCount();
    const ackedAtKill = load.acked;
    // JetStream keeps taking the devices' reports while no server runs
    await waitFor(() => load.acked >= ackedAtKill + 100, "reports acked by JetStream while the server is down", 60_000);
    expect(await storedCount()).toBe(storedAtKill);

    await srv.start();
    expect(srv.pid).not.toBe(killedPid);
    await load.done;

    const acct = await waitFor(async () => {
      const a = await accountReports(db.url, load.intended, ids);
      return a.lost.length === 0 ? a : null;
    }, `all ${load.total} reports in the database`, 90_000);
    expect(storedAtKill).toBeLessThan(load.total);
    expect(load.intended.size).toBe(DEVICES * REPORTS_PER_DEVICE);
    expect(acct.stored).toBe(load.total);
    expect(acct.duplicated).toBe(0);
    expect(acct.foreign).toBe(0);
    expect(acct.byKind).toEqual(countByKind(load.intended));
    expect(acct.perTable.Heartbeat).toBe(countByKind(load.intended).heartbeat);
    console.log(`[fault server-killed] ${load.total} reports, ${storedAtKill} stored before the kill, ${load.retries} publish retries`);
  }, 180_000);
});
