import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io, type Socket } from "socket.io-client";
import { generateSigningKeyPair, importPrivateJwk, signFleetEventBatch, subjects } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../app.js";
import { heartbeatBody } from "../testing/fixtures.js";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../testing/test-server.js";
import { FleetEventRelay } from "./fleet-event-relay.js";
import { FleetEvent, FleetEventBus, type FleetEventMessage } from "./fleet-events.js";

// Two servers on one NATS and one database (in this process; test/replicas.e2e.test.ts runs them as processes):
// a websocket client of either sees the events of both, each once.

let t: TestServer;
let b: FleetServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  t = await startTestServer();
  b = await createServer(t.config);
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await b?.close();
  await t?.close();
});

async function listen(url: string): Promise<FleetEventMessage[]> {
  const s = io(`${url}/events`, { auth: { token: ADMIN_TOKEN }, transports: ["websocket"], reconnection: false });
  sockets.push(s);
  const got: FleetEventMessage[] = [];
  s.onAny((_name: string, msg: FleetEventMessage) => got.push(msg));
  await new Promise<void>((resolve, reject) => {
    s.on("connect", () => resolve());
    s.on("connect_error", reject);
  });
  return got;
}

const processed = async (url: string) =>
  (await (await fetch(`${url}/metrics`)).text())
    .split("\n")
    .filter((l) => l.startsWith("fleet_reports_processed_total{"))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.split(" ").pop()) : NaN;
};

describe("fleet events across replicas", () => {
  it("a client of either server sees each event once, wherever it happened", async () => {
    const [onA, onB] = await Promise.all([listen(t.url), listen(b.url)]);
    // each hears the other's hello (B's at its start, A's answer at once): only then do they relay
    await waitFor(() => t.server.app.get(FleetEventRelay).hasPeers && b.app.get(FleetEventRelay).hasPeers, "both servers know each other", 60_000);
    const dev = await t.enrollDevice("relay-1"); // enrolled through A
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = dev.report("heartbeat", heartbeatBody());
      sent.push(r.msgId);
      await dev.publish(r);
    }
    const reported = (got: FleetEventMessage[]) => got.filter((e) => e.type === FleetEvent.DeviceReported && e.deviceId === dev.id).map((e) => (e.data as { msgId: string }).msgId);
    await waitFor(() => reported(onA).length >= 20 && reported(onB).length >= 20, "both clients saw the 20 reports", 60_000);
    // Which server stored which report is up to the shared consumer; either way each client sees each report once.
    // Both stored some (the consumer hands waiting pulls messages in turn): each client saw events of the other server.
    const stored = [await processed(t.url), await processed(b.url)];
    expect(stored[0]! + stored[1]!).toBe(20);
    expect(Math.min(...stored)).toBeGreaterThan(0);
    for (const got of [onA, onB]) {
      expect(reported(got).sort()).toEqual([...sent].sort());
      const of = (type: string) => got.filter((e) => e.type === type && e.deviceId === dev.id);
      expect(of(FleetEvent.DeviceEnrolled)).toHaveLength(1);
      // Both servers' presence announces the device online (B from its sweep at the latest): delivered once.
      expect(of(FleetEvent.DeviceOnline)).toHaveLength(1);
    }
    // B's own sweep notices the device too; its announcement must not reach a client a second time.
    await waitFor(async () => (await metric(b.url, "fleet_devices_online")) >= 1, "B counts the device online", 60_000);
    expect(onB.filter((e) => e.type === FleetEvent.DeviceOnline && e.deviceId === dev.id)).toHaveLength(1);
    expect(onA.filter((e) => e.type === FleetEvent.DeviceOnline && e.deviceId === dev.id)).toHaveLength(1);
    // A revocation reaches B's clients through the revocation announcement, not twice through the relay.
    expect((await t.admin(`/api/v1/devices/${dev.id}/revoke`, { method: "POST" })).status).toBeLessThan(300);
    const revoked = (got: FleetEventMessage[]) => got.filter((e) => e.type === FleetEvent.DeviceRevoked && e.deviceId === dev.id);
    await waitFor(() => revoked(onA).length === 1 && revoked(onB).length === 1, "revoked on both");
    // a later event proves nothing else was in flight: each revocation arrived once
    const probe = await t.enrollDevice("relay-probe");
    await waitFor(() => [onA, onB].every((got) => got.some((e) => e.type === FleetEvent.DeviceEnrolled && e.deviceId === probe.id)), "probe enrolled on both");
    expect([revoked(onA).length, revoked(onB).length]).toEqual([1, 1]);
  });

  it("drops and counts batches not signed by the server key or not well-formed; devices may not use the subject", async () => {
    const onB = await listen(b.url);
    const subject = subjects(t.config.subjectPrefix).fleetEvents();
    const fake = { v: 1 as const, origin: "intruder", seq: 1, events: [{ type: FleetEvent.DeviceOffline, deviceId: "dev-fake", at: new Date().toISOString(), data: { lastSeenAt: null } }] };
    const other = await generateSigningKeyPair();
    const before = { unsigned: await metric(b.url, 'fleet_event_relay_dropped_total{reason="unsigned"}'), malformed: await metric(b.url, 'fleet_event_relay_dropped_total{reason="malformed"}') };

    // The server's own NATS user may publish there (as a compromised peer could): forged and garbage batches.
    const { connect, credsAuthenticator } = await import("nats");
    const { NatsAuthority } = await import("../nats/nats-authority.js");
    const creds = await (await NatsAuthority.load(t.config.natsKeysFile!)).serverCreds();
    const nc = await connect({ servers: t.nats.url, authenticator: credsAuthenticator(new TextEncoder().encode(creds)) });
    try {
      nc.publish(subject, new TextEncoder().encode(await signFleetEventBatch(fake, await importPrivateJwk(other.privateJwk))));
      nc.publish(subject, new TextEncoder().encode(JSON.stringify(fake)));
      await nc.flush();
    } finally {
      await nc.close();
    }
    await waitFor(async () => (await metric(b.url, 'fleet_event_relay_dropped_total{reason="unsigned"}')) === before.unsigned + 2, "B dropped both");
    expect(await metric(b.url, 'fleet_event_relay_dropped_total{reason="malformed"}')).toBe(before.malformed);

    // A device's own NATS user can neither read nor write the relay subject.
    const dev = await t.enrollDevice("relay-intruder");
    await expect(dev.nc.request(subject, new TextEncoder().encode(JSON.stringify(fake)), { timeout: 5_000 })).rejects.toMatchObject({ code: "PERMISSIONS_VIOLATION" });
    const sub = dev.nc.subscribe(subject);
    await expect((async () => {
      for await (const m of sub) return m;
    })()).rejects.toMatchObject({ code: "PERMISSIONS_VIOLATION" });

    // Nothing forged reached the client; the enrollment on A (a real event) did.
    await waitFor(() => onB.some((e) => e.type === FleetEvent.DeviceEnrolled && e.deviceId === dev.id), "the real event on B");
    expect(onB.filter((e) => e.deviceId === "dev-fake")).toEqual([]);
  });

  it("an event of this server off the protocol's schema is counted and left out; the rest of its batch goes", async () => {
    const onB = await listen(b.url);
    const bus = t.server.app.get(FleetEventBus);
    // published in one turn: one batch
    bus.publish(FleetEvent.DeviceReported, "dev-bogus", { kind: "gossip", msgId: "m-bogus" } as never);
    bus.publish(FleetEvent.DeviceReported, "dev-fine", { kind: "heartbeat", msgId: "m-fine" });
    await waitFor(() => onB.some((e) => e.deviceId === "dev-fine"), "the valid event on B");
    expect(onB.filter((e) => e.deviceId === "dev-bogus")).toEqual([]);
    expect(await metric(t.url, 'fleet_event_relay_dropped_total{reason="invalid_local"}')).toBe(1);
    expect(await metric(b.url, 'fleet_event_relay_dropped_total{reason="lost"}')).toBe(0);
  });
});
