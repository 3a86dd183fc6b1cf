import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { expectEveryReportStoredOnce } from "../support/fleetLoad.js";
import { metricValue, type ServerProcess } from "../support/faultServer.js";
import { startFaultFleet, type FaultFleet } from "../support/faultFleet.js";

const DEVICES = 30;
const REPORTS_PER_DEVICE = 40;

type Health = { checks: { database: { ok: boolean }; nats: { ok: boolean } } };

// PostgreSQL (a private cluster, never the shared one) is stopped in fast mode while 30 devices publish: JetStream
// keeps accepting, the server naks what it cannot commit and reconnects when the database is back, JetStream
// redelivers, and every report is stored exactly once. /health says the database is down, then ok again.
describe("fault: PostgreSQL restarted under ingest load", () => {
  let fleet: FaultFleet<true, "process">;
  let srv: ServerProcess;

  beforeAll(async () => {
    fleet = await startFaultFleet({ name: "fault-pg", devices: DEVICES, privateDatabase: true });
    srv = fleet.srv;
  });
  afterAll(async () => {
    // SIGTERM: the server's close() bounds each of its steps (a Prisma $disconnect after the restart included)
    await fleet?.close();
  });

  it("stores every report exactly once across the database restart", async () => {
    const pg = fleet.db;
    const load = fleet.startLoad({ reportsPerDevice: REPORTS_PER_DEVICE, intervalMs: 50 });
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

    await expectEveryReportStoredOnce(pg.url, load.intended, fleet.deviceIds, { expected: DEVICES * REPORTS_PER_DEVICE });
    expect(load.total).toBe(DEVICES * REPORTS_PER_DEVICE);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    // nothing was given up as unstorable, and nothing refused
    expect(metricValue(metrics, "fleet_reports_rejected_total", { reason: "store_failed" })).toBe(0);
    console.log(`[fault postgres-restart] ${load.total} reports, ${metricValue(metrics, "fleet_reports_retried_total")} naked for redelivery, ${metricValue(metrics, "fleet_reports_duplicate_total")} duplicates ignored`);
  }, 180_000);

  it("shuts down cleanly after the restart: every step of close() completes in its bound (Prisma's $disconnect included)", async () => {
    await srv.close(); // SIGTERM, SIGKILL after 20 s
    const lines = (await fs.readFile(srv.logFile, "utf8")).split("\n").filter((l) => l.startsWith("{"));
    const stopped = lines.map((l) => JSON.parse(l) as { msg?: string; failures?: string[] }).filter((l) => l.msg === "fleet server stopped");
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.failures).toEqual([]);
  }, 60_000);
});
