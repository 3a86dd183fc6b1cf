import { describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk } from "./signing.js";
import { DEFAULT_DEVICE_POLICY_SETTINGS, openDevicePolicy, postureTelemetryOf, reportAllowedByTelemetry, signDevicePolicy, telemetryModeOfPosture, type TDevicePolicyV1 } from "./device-policy.js";
import { REPORT_KINDS } from "./subjects.js";

const policy = (over: Partial<TDevicePolicyV1> = {}): TDevicePolicyV1 => ({
  schema: "device-policy/v1",
  version: 5,
  issuedAt: "2026-11-28T10:00:00.000Z",
  expiresAt: "2026-12-28T10:00:00.000Z",
  deviceId: "dev-a",
  ...DEFAULT_DEVICE_POLICY_SETTINGS,
  ...over,
});

describe("device policy signing", () => {
  it("accepts a valid policy and refuses bad signature, other device, expiry and replay", async () => {
    const server = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const key = await importPrivateJwk(server.privateJwk);
    const pub = await importPublicJwk(server.publicJwk);
    const now = new Date("2026-11-28T12:00:00.000Z");
    const jws = await signDevicePolicy(policy(), key);
    const ok = await openDevicePolicy(jws, pub, { deviceId: "dev-a", minVersionExclusive: 4, now });
    expect(ok).toEqual({ ok: true, value: policy() });

    const forged = await signDevicePolicy(policy(), await importPrivateJwk(other.privateJwk));
    expect(await openDevicePolicy(forged, pub, { deviceId: "dev-a", minVersionExclusive: 0, now })).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(await openDevicePolicy(jws, pub, { deviceId: "dev-b", minVersionExclusive: 0, now })).toMatchObject({ ok: false, reason: "device_mismatch" });
    expect(await openDevicePolicy(jws, pub, { deviceId: "dev-a", minVersionExclusive: 5, now })).toMatchObject({ ok: false, reason: "replayed" });
    const late = new Date("2027-01-01T00:00:00.000Z");
    expect(await openDevicePolicy(jws, pub, { deviceId: "dev-a", minVersionExclusive: 0, now: late })).toMatchObject({ ok: false, reason: "expired" });
    const tampered = jws.replace(/^([^.]+)\.([^.]+)\./, (_m, h: string) => `${h}.${Buffer.from(JSON.stringify(policy({ version: 99 }))).toString("base64url")}.`);
    expect(await openDevicePolicy(tampered, pub, { deviceId: "dev-a", minVersionExclusive: 0, now })).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("telemetry off lets only control-plane reports out; minimal maps to the posture's metrics-only", () => {
    const off = REPORT_KINDS.filter((k) => reportAllowedByTelemetry("off", k));
    expect(off.sort()).toEqual(["egress", "events", "heartbeat", "inventory", "models", "posture", "update"]);
    expect(reportAllowedByTelemetry("off", "metrics")).toBe(false);
    expect(reportAllowedByTelemetry("off", "benchmark")).toBe(false);
    expect(reportAllowedByTelemetry("minimal", "metrics")).toBe(true);
    expect(REPORT_KINDS.every((k) => reportAllowedByTelemetry("full", k))).toBe(true);
    expect(postureTelemetryOf("minimal")).toBe("metrics-only");
    expect(telemetryModeOfPosture(postureTelemetryOf("off"))).toBe("off");
  });
});
