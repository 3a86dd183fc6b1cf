import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TComplianceViolationV1, TEgressEntryV1, TOutboundDestinationV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import type { SimDevice } from "../testing/device-sim.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

const entry = (over: Partial<TEgressEntryV1>): TEgressEntryV1 => ({
  host: "127.0.0.1",
  port: 4222,
  address: "127.0.0.1",
  purpose: "messaging",
  bytesSent: 1000,
  bytesReceived: 500,
  connections: 1,
  open: 1,
  firstSeenAt: new Date(Date.now() - 60_000).toISOString(),
  lastSeenAt: new Date().toISOString(),
  ...over,
});

/** The outbound ledger as evidence: stored with history, judged against the allowlist, summed over the fleet. */
describe("outbound ledger on the server", () => {
  let t: TestServer;
  let a: SimDevice;
  let b: SimDevice;

  const ledger = (dev: SimDevice, entries: TEgressEntryV1[]) =>
    dev.publish(dev.report("egress", { since: new Date(Date.now() - 3_600_000).toISOString(), collectedAt: new Date().toISOString(), entries }));

  beforeAll(async () => {
    t = await startTestServer();
    [a, b] = await Promise.all([t.enrollDevice("ws-ledger-a"), t.enrollDevice("ws-ledger-b")]);
    const ok = await t.admin("/api/v1/compliance/policies/outbound_allowlist", { method: "PUT", body: JSON.stringify({ enabled: true, allowlist: ["127.0.0.1"] }) });
    expect(ok.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("stores each ledger as history, judges the real destinations against the allowlist and lists them with bytes", async () => {
    const rogue = entry({ host: "telemetry.evil.example", port: 443, address: "203.0.113.9", purpose: "other", bytesSent: 7777, bytesReceived: 12, connections: 3 });
    const probe = entry({ host: "127.0.0.1", port: 11434, purpose: "local-probe", bytesSent: 80, bytesReceived: 0 });
    await ledger(a, [entry({}), probe]);
    await ledger(a, [entry({ bytesSent: 2000, bytesReceived: 900 }), probe, rogue]);
    await ledger(b, [entry({ bytesSent: 300, bytesReceived: 100 })]);

    const [v] = await waitFor(async () => {
      const res = await t.admin(`/api/v1/compliance/violations?deviceId=${a.id}&policy=outbound_allowlist&state=open`);
      const items = ((await res.json()) as { items: TComplianceViolationV1[] }).items;
      return items.length ? items : null;
    }, "the undeclared destination flagged from the ledger");
    expect(v).toMatchObject({ subject: "telemetry.evil.example:443", evidence: { source: "ledger", address: "203.0.113.9", bytesSent: 7777, connections: 3 } });
    expect(await t.db.prisma.egressReport.count({ where: { deviceId: a.id } })).toBe(2);
    await waitFor(async () => (await t.db.prisma.egressDestination.count({ where: { deviceId: b.id } })) === 1, "b's ledger stored");
    // b stays clean: its only destination is allowed
    const bOpen = ((await (await t.admin(`/api/v1/compliance/violations?deviceId=${b.id}&state=open&policy=outbound_allowlist`)).json()) as { items: unknown[] }).items;
    expect(bOpen).toEqual([]);

    const dests = ((await (await t.admin("/api/v1/compliance/destinations")).json()) as { items: TOutboundDestinationV1[] }).items;
    // the latest cumulative counters per device, summed over devices; the local probe is not outbound traffic
    expect(dests.find((d) => d.destination === "127.0.0.1:4222")).toMatchObject({ observedDeviceCount: 2, bytesSent: 2300, bytesReceived: 1000, bytes: 3300, addresses: ["127.0.0.1"] });
    expect(dests.find((d) => d.destination === "telemetry.evil.example:443")).toMatchObject({ source: "observed", deviceCount: 1, bytesSent: 7777, addresses: ["203.0.113.9"] });
    expect(dests.find((d) => d.destination.endsWith(":11434"))).toBeUndefined();

    const csv = parse(await (await t.admin("/api/v1/compliance/destinations.csv")).text(), { columns: true }) as Record<string, string>[];
    expect(csv).toContainEqual(expect.objectContaining({ destination: "telemetry.evil.example:443", source: "observed", bytesSent: "7777", deviceCount: "1" }));
    const signed = (await (await t.admin("/api/v1/compliance/report/signed")).json()) as { report: { destinations: TOutboundDestinationV1[] } };
    expect(signed.report.destinations).toEqual(dests);
  });
});
