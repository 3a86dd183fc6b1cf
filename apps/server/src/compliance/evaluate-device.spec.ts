import { describe, expect, it } from "vitest";
import type { TPostureV1 } from "@fleet/protocol";
import { matchesAllowlist } from "./destination.js";
import { evaluateDevice, type DeviceEvidence } from "./evaluate-device.js";
import { defaultPolicy, withDefaults } from "./policy-defaults.js";

const base: TPostureV1 = {
  outbound: [{ purpose: "messaging", url: "nats://user:pw@nats.corp.example:4222", carries: [] }],
  telemetry: "metrics-only",
  remoteFallback: { enabled: false, url: null },
  promptsLeaveDevice: false,
  localApi: { enabled: true, bindAddress: "127.0.0.1", port: 11435, loopbackOnly: true, authRequired: true, corsAllowedOrigins: [] },
};
const ev = (p: Partial<TPostureV1> | null, models: DeviceEvidence["models"] = []): DeviceEvidence => ({
  posture: p ? { ...base, ...p } : null,
  postureAt: p ? new Date() : null,
  models,
  approvedSha256s: new Set(["a".repeat(64)]),
});
const all = withDefaults([{ ...defaultPolicy("outbound_allowlist"), enabled: true, allowlist: ["*.corp.example"] }]);
const policiesOf = (e: DeviceEvidence) => evaluateDevice(all, e).map((f) => `${f.policy}:${f.subject}`);

describe("evaluateDevice", () => {
  it.each([
    ["a clean posture", ev({}), []],
    ["no posture: only model policies apply", ev(null, [{ path: "/m/x", fileName: "x", sha256: "b".repeat(64) }]), [`approved_models:${"b".repeat(64)}`]],
    ["an approved model", ev({}, [{ path: "/m/a", fileName: "a", sha256: "a".repeat(64) }]), []],
    ["API on all interfaces", ev({ localApi: { ...base.localApi, bindAddress: "0.0.0.0", loopbackOnly: false } }), ["api_loopback:local-api"]],
    ["API without auth", ev({ localApi: { ...base.localApi, authRequired: false } }), ["api_auth:local-api"]],
    ["API disabled: nothing to judge", ev({ localApi: { ...base.localApi, enabled: false, authRequired: false, loopbackOnly: false } }), []],
    ["full telemetry over metrics-only", ev({ telemetry: "full" }), ["telemetry_max:telemetry"]],
    ["a destination outside the allowlist", ev({ outbound: [{ purpose: "telemetry", url: "https://t.other.example/x", carries: [] }] }), ["outbound_allowlist:t.other.example"]],
  ])("%s", (_name, evidence, expected) => {
    expect(policiesOf(evidence)).toEqual(expected);
  });

  it("probed evidence overrides the declared posture", () => {
    const exposure = {
      scannedAt: new Date().toISOString(),
      api: { sockets: [{ address: "0.0.0.0", port: 11435, loopbackOnly: false }], authRequired: false, unauthenticatedStatus: 200, corsAllowOriginForForeign: "*" },
      localLlmServers: [
        { name: "ollama", port: 11434, found: true, boundAddresses: ["0.0.0.0"], loopbackOnly: false, answersWithoutAuth: true, probePath: "/api/tags", probeStatus: 200 },
        { name: "vllm", port: 8000, found: true, boundAddresses: ["127.0.0.1"], loopbackOnly: true, answersWithoutAuth: false, probePath: "/v1/models", probeStatus: 401 },
      ],
      catalogSynced: true,
      models: [],
    };
    expect(policiesOf(ev({ exposure }))).toEqual(["api_loopback:local-api", "api_auth:local-api", "no_unauthenticated_llm_server:ollama:11434"]);
  });

  it("disabled policies yield nothing", () => {
    const off = withDefaults([]).map((p) => ({ ...p, enabled: false }));
    expect(evaluateDevice(off, ev({ telemetry: "full" }, [{ path: "/m/x", fileName: "x", sha256: "b".repeat(64) }]))).toEqual([]);
  });
});

describe("matchesAllowlist", () => {
  it.each([
    ["nats.corp.example:4222", ["nats.corp.example"], true],
    ["nats.corp.example:4222", ["nats.corp.example:4222"], true],
    ["nats.corp.example:4222", ["nats.corp.example:4223"], false],
    ["a.b.corp.example", ["*.corp.example"], true],
    ["corp.example.evil.com", ["*.corp.example"], false],
    ["evilcorp.example", ["*.corp.example"], false],
  ])("%s in %j -> %s", (dest, list, ok) => {
    expect(matchesAllowlist(dest, list)).toBe(ok);
  });
});
