import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server.js";
import { accountReports, closeLoadDevices, countByKind, enrollLoadDevices, ReportLoad, type LoadDevice } from "../support/fleetLoad.js";

const DEVICES = 30;

async function bounded(p: Promise<void>, what: string, ms = 20_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
  const outcome = await Promise.race([p.then(() => "done" as const), late]).finally(() => clearTimeout(timer));
  if (outcome === "late") console.error(`[fault nats-restart] teardown: ${what} did not finish in ${ms / 1000} s; going on`);
}
const REPORTS_PER_DEVICE = 40;

// nats-server restarts (JetStream store kept) while 30 devices publish signed reports: the devices retry what was not
// acked with the same msgId, the server reconnects and keeps consuming, and every report is stored exactly once.
describe("fault: NATS restarted under ingest load", () => {
  let srv: TestServer;
  let devices: LoadDevice[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ ENROLL_RATE_LIMIT_PER_MIN: "100000" });
    devices = await enrollLoadDevices(srv.url, srv.nats.url, ADMIN_TOKEN, DEVICES, "fault-nats");
  });
  afterAll(async () => {
    // Bounded: once in CI (and once in ~6 runs here) this teardown hung for the whole 120 s hook timeout after the
    // restart, somewhere in closing the devices' connections or the server (not traced yet); the test's assertions
    // have all run by then, so a stuck step is reported and the teardown goes on.
    await bounded(closeLoadDevices(devices), "closing the load devices' NATS connections");
    await bounded(srv?.close() ?? Promise.resolve(), "closing the server, its database and nats-server");
  });

  it("stores every report the devices meant to send exactly once", async () => {
    const load = new ReportLoad(devices, { reportsPerDevice: REPORTS_PER_DEVICE, intervalMs: 50 });
    await waitFor(() => load.acked >= load.total / 3, "a third of the reports acked before the restart", 60_000);

    await srv.nats.stop();
    const health = await waitFor(async () => {
      const res = await fetch(`${srv.url}/health`);
      return res.status === 503 ? ((await res.json()) as { checks: { nats: { ok: boolean }; database: { ok: boolean } } }) : null;
    }, "health to report NATS down", 60_000);
    expect(health.checks.nats.ok).toBe(false);
    const ackedWhileDown = load.acked;
    await waitFor(() => load.retries > 0, "publishes failing while NATS is down", 60_000);
    await srv.nats.start();

    await waitFor(async () => (await fetch(`${srv.url}/health`)).status === 200, "health back to ok", 60_000);
    await load.done;
    expect(load.acked).toBe(load.total);
    expect(load.acked).toBeGreaterThan(ackedWhileDown);

    const ids = devices.map((d) => d.id);
    const acct = await waitFor(async () => {
      const a = await accountReports(srv.db.url, load.intended, ids);
      return a.lost.length === 0 ? a : null;
    }, `all ${load.total} reports in the database`, 90_000);
    expect(load.intended.size).toBe(DEVICES * REPORTS_PER_DEVICE);
    expect(acct.stored).toBe(load.total);
    expect(acct.duplicated).toBe(0);
    expect(acct.foreign).toBe(0);
    expect(acct.byKind).toEqual(countByKind(load.intended));
    expect(acct.perTable.Heartbeat).toBe(countByKind(load.intended).heartbeat);
    console.log(`[fault nats-restart] ${load.total} reports, ${load.retries} publish retries, ${load.duplicateAcks} duplicate acks`);
  }, 180_000);
});
