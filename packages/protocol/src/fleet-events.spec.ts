import { describe, expect, it } from "vitest";
import { FleetEvent, ZFleetEventV1 } from "./fleet-events.js";

const at = "2026-11-25T10:00:00.000Z";

describe("ZFleetEventV1", () => {
  const valid: Array<[string, unknown]> = [
    ["enrolled", { type: FleetEvent.DeviceEnrolled, deviceId: "dev_1", at, data: { hostname: "ws-1" } }],
    ["reported", { type: FleetEvent.DeviceReported, deviceId: "dev_1", at, data: { kind: "heartbeat", msgId: "m1" } }],
    ["offline, never seen", { type: FleetEvent.DeviceOffline, deviceId: "dev_1", at, data: { lastSeenAt: null } }],
    ["revoked", { type: FleetEvent.DeviceRevoked, deviceId: "dev_1", at, data: {} }],
    ["rejected without a device", { type: FleetEvent.ReportRejected, deviceId: null, at, data: { reason: "malformed", detail: "x", subject: "fleet.device.a.heartbeat" } }],
    ["benchmark", { type: FleetEvent.BenchmarkCompleted, deviceId: "dev_1", at, data: { commandId: null, ok: true, runId: "r1" } }],
    ["rollout paused", { type: FleetEvent.RolloutPaused, deviceId: null, at, data: { rolloutId: "0b0c3f4e-3c1d-4a57-9b1e-6f7a8b9c0d1e", state: "paused", currentRing: 0, reason: "gate failed" } }],
    ["rollout device", { type: FleetEvent.RolloutDeviceUpdated, deviceId: "dev_1", at, data: { rolloutId: "0b0c3f4e-3c1d-4a57-9b1e-6f7a8b9c0d1e", state: "failed", code: "self_test_failed" } }],
  ];
  it.each(valid)("accepts %s", (_, e) => expect(ZFleetEventV1.safeParse(e).success).toBe(true));

  const invalid: Array<[string, unknown, string]> = [
    ["unknown type", { type: "device.exploded", deviceId: "dev_1", at, data: {} }, "type"],
    ["report kind not in the protocol", { type: FleetEvent.DeviceReported, deviceId: "dev_1", at, data: { kind: "secrets", msgId: "m" } }, "data.kind"],
    ["unknown reject reason", { type: FleetEvent.ReportRejected, deviceId: null, at, data: { reason: "meh", detail: "", subject: "s" } }, "data.reason"],
    ["bad device id", { type: FleetEvent.DeviceOnline, deviceId: "../etc", at, data: { lastSeenAt: at } }, "deviceId"],
    ["not a date", { type: FleetEvent.DeviceOnline, deviceId: "dev_1", at: "yesterday", data: { lastSeenAt: at } }, "at"],
  ];
  it.each(invalid)("rejects %s at %s", (_, e, where) => {
    const r = ZFleetEventV1.safeParse(e);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toContain(where);
  });

  it("drops fields the schema does not know, so nothing extra is relayed", () => {
    const r = ZFleetEventV1.parse({ type: FleetEvent.DeviceEnrolled, deviceId: "d", at, data: { hostname: "h", token: "secret" }, extra: 1 });
    expect(r).toEqual({ type: FleetEvent.DeviceEnrolled, deviceId: "d", at, data: { hostname: "h" } });
  });
});
