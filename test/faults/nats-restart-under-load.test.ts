import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { expectEveryReportStoredOnce } from "../support/fleetLoad.js";
import { startFaultFleet, type FaultFleet } from "../support/faultFleet.js";

const DEVICES = 30;
const REPORTS_PER_DEVICE = 40;

// nats-server restarts (JetStream store kept) while 30 devices publish signed reports: the devices retry what was not
// acked with the same msgId, the server reconnects and keeps consuming, and every report is stored exactly once.
// The server runs in this process with its own Prisma client, as in production, and its close() must then complete.
describe("fault: NATS restarted under ingest load", () => {
  let fleet: FaultFleet<false, "in-process">;

  beforeAll(async () => {
    fleet = await startFaultFleet({ name: "fault-nats", devices: DEVICES, server: "in-process" });
  });
  afterAll(async () => {
    // bounded per step (a safety net: the test below asserts the server's close() completes)
    await fleet?.close();
  });

  it("stores every report the devices meant to send exactly once", async () => {
    const { srv, nats } = fleet;
    const load = fleet.startLoad({ reportsPerDevice: REPORTS_PER_DEVICE, intervalMs: 50 });
    await waitFor(() => load.acked >= load.total / 3, "a third of the reports acked before the restart", 60_000);

    await nats.stop();
    const health = await waitFor(async () => {
      const res = await fetch(`${srv.url}/health`);
      return res.status === 503 ? ((await res.json()) as { checks: { nats: { ok: boolean }; database: { ok: boolean } } }) : null;
    }, "health to report NATS down", 60_000);
    expect(health.checks.nats.ok).toBe(false);
    const ackedWhileDown = load.acked;
    await waitFor(() => load.retries > 0, "publishes failing while NATS is down", 60_000);
    await nats.start();

    await waitFor(async () => (await fetch(`${srv.url}/health`)).status === 200, "health back to ok", 60_000);
    await load.done;
    expect(load.acked).toBe(load.total);
    expect(load.acked).toBeGreaterThan(ackedWhileDown);

    await expectEveryReportStoredOnce(fleet.db.url, load.intended, fleet.deviceIds, { expected: DEVICES * REPORTS_PER_DEVICE });
    expect(load.total).toBe(DEVICES * REPORTS_PER_DEVICE);
    console.log(`[fault nats-restart] ${load.total} reports, ${load.retries} publish retries, ${load.duplicateAcks} duplicate acks`);
  }, 180_000);

  it("the server's close() completes after the restart (every shutdown step within its bound)", async () => {
    // close() rejects when a step failed or outlived its bound (app 6 s, NATS 7 s, Prisma 4 s); the 60 s race only
    // keeps a hang from lasting the whole test timeout. Not a timing check: it must finish, not finish fast.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), 60_000)));
    const outcome = await Promise.race([fleet.srv.close().then(() => "closed" as const), hung]).finally(() => clearTimeout(timer));
    expect(outcome).toBe("closed");
  }, 90_000);
});
