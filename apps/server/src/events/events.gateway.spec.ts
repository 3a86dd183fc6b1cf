import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io, type Socket } from "socket.io-client";
import { waitFor } from "@fleet/test-utils";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../testing/test-server.js";
import { heartbeatBody } from "../testing/fixtures.js";
import { FleetEvent, type FleetEventMessage } from "./fleet-events.js";

let t: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  // offline after 1 s, so the sweep's transition is observable in a test
  t = await startTestServer({ OFFLINE_AFTER_SEC: "1" });
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await t?.close();
});

function connectEvents(auth: Record<string, string>): Socket {
  const s = io(`${t.url}/events`, { auth, transports: ["websocket"], reconnection: false });
  sockets.push(s);
  return s;
}

describe("websocket /events", () => {
  it("refuses a connection without the admin token", async () => {
    const s = connectEvents({ token: "wrong-token-wrong-token-wrong" });
    const err = await new Promise<Error>((resolve) => s.on("connect_error", resolve));
    expect(err.message).toBe("unauthorized");
    expect(s.connected).toBe(false);
  });

  it("streams typed fleet events to admins: enrolled, online, reported, rejected, offline", async () => {
    const s = connectEvents({ token: ADMIN_TOKEN });
    const got: FleetEventMessage[] = [];
    s.onAny((name: string, msg: FleetEventMessage) => {
      expect(name).toBe(msg.type);
      got.push(msg);
    });
    await new Promise<void>((resolve, reject) => {
      s.on("connect", () => resolve());
      s.on("connect_error", reject);
    });

    const dev = await t.enrollDevice("ws-events");
    await dev.publish(dev.report("heartbeat", heartbeatBody()));
    await dev.publishRaw("heartbeat", "garbage");

    const of = (type: string) => got.filter((e) => e.type === type && e.deviceId === dev.id);
    await waitFor(() => of(FleetEvent.ReportRejected).length === 1 && of(FleetEvent.DeviceReported).length === 1, "reported + rejected events");
    expect(of(FleetEvent.DeviceEnrolled)[0]).toMatchObject({ type: "device.enrolled", deviceId: dev.id, data: { hostname: "ws-events" } });
    expect(of(FleetEvent.DeviceOnline)).toHaveLength(1);
    expect(of(FleetEvent.DeviceReported)[0]!.data).toMatchObject({ kind: "heartbeat" });
    expect(of(FleetEvent.ReportRejected)[0]!.data).toMatchObject({ reason: "malformed" });
    expect(Date.parse(of(FleetEvent.DeviceReported)[0]!.at)).toBeGreaterThan(Date.now() - 60_000);

    // no more reports: the sweep notices the silence
    await waitFor(() => of(FleetEvent.DeviceOffline).length === 1, "offline event", 10_000);
    expect(of(FleetEvent.DeviceOffline)[0]!.data).toMatchObject({ lastSeenAt: expect.any(String) });

    // and the next report brings it back online
    await dev.publish(dev.report("heartbeat", heartbeatBody()));
    await waitFor(() => of(FleetEvent.DeviceOnline).length === 2, "online again");
    // a lone server relays nothing to other replicas (it only says hello)
    expect(await t.metrics()).toContain('fleet_event_relay_events_total{direction="out"} 0');
  });
});
