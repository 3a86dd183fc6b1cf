import { describe, expect, it } from "vitest";
import { decodeReport, decodeReportBody, REPORT_BODY_SCHEMAS } from "./reports.js";
import { EXAMPLE_BODIES, exampleInventory, exampleModels, exampleHeartbeat, examplePosture, exampleEvents, exampleBenchmark } from "./examples.js";
import { REPORT_KINDS, type ReportKind } from "./subjects.js";
import { ZEnrollRequestV1 } from "./enrollment.js";
import { ZCommandV1 } from "./commands.js";
import { ZDeviceRevokedV1 } from "./control.js";
import { ZDeviceListQueryV1 } from "./api.js";

const clone = <T>(v: T): T => structuredClone(v);

describe("report bodies", () => {
  it.each(REPORT_KINDS)("accepts the %s example", (kind) => {
    const r = decodeReportBody(kind, EXAMPLE_BODIES[kind]);
    expect(r).toEqual({ ok: true, value: EXAMPLE_BODIES[kind] });
  });

  // Each case: kind, a broken copy of its example, and the path the reason must name.
  const invalid: Array<[string, ReportKind, unknown, string]> = [
    ["negative RAM", "inventory", { ...clone(exampleInventory), memory: { ...exampleInventory.memory, totalBytes: -1 } }, "memory.totalBytes"],
    ["fractional core count", "inventory", { ...clone(exampleInventory), cpu: { ...exampleInventory.cpu, cores: 2.5 } }, "cpu.cores"],
    ["GPU without model", "inventory", { ...clone(exampleInventory), gpus: [{ vendor: "x" }] }, "gpus.0.model"],
    ["collectedAt not a date", "inventory", { ...clone(exampleInventory), collectedAt: "yesterday" }, "collectedAt"],
    ["battery over 100 %", "inventory", { ...clone(exampleInventory), power: { ...exampleInventory.power, percent: 140 } }, "power.percent"],
    ["uppercase sha256", "models", { ...clone(exampleModels), models: [{ ...exampleModels.models[0], sha256: "81F226C6".padEnd(64, "0") }] }, "models.0.sha256"],
    ["short sha256", "models", { ...clone(exampleModels), models: [{ ...exampleModels.models[0], sha256: "81f226c6" }] }, "models.0.sha256"],
    ["empty path", "models", { ...clone(exampleModels), models: [{ ...exampleModels.models[0], path: "" }] }, "models.0.path"],
    ["negative queue depth", "heartbeat", { ...clone(exampleHeartbeat), queueDepth: -3 }, "queueDepth"],
    ["unknown runtime state", "heartbeat", { ...clone(exampleHeartbeat), runtime: { state: "dreaming", activeModel: null } }, "runtime.state"],
    ["unknown telemetry mode", "posture", { ...clone(examplePosture), telemetry: "some" }, "telemetry"],
    ["port out of range", "posture", { ...clone(examplePosture), localApi: { ...examplePosture.localApi, port: 70000 } }, "localApi.port"],
    ["no events", "events", { events: [] }, "events"],
    ["event kind with spaces", "events", { events: [{ ...exampleEvents.events[0], kind: "Model Load" }] }, "events.0.kind"],
    ["benchmark with zero repetitions", "benchmark", { ...clone(exampleBenchmark), settings: { ...exampleBenchmark.settings, repetitions: 0 } }, "settings.repetitions"],
  ];

  it.each(invalid)("rejects %s with a reason naming the field", (_name, kind, body, path) => {
    const r = decodeReportBody(kind, body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(path);
  });

  it("has a schema for every report kind", () => {
    expect(Object.keys(REPORT_BODY_SCHEMAS).sort()).toEqual([...REPORT_KINDS].sort());
  });
});

describe("report envelope", () => {
  const envelope = {
    v: 1, kind: "heartbeat", deviceId: "dev-1", msgId: "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", seq: 7,
    sentAt: "2026-11-25T08:00:00.000Z", body: exampleHeartbeat,
  };

  it("accepts a valid envelope and types its body", () => {
    const r = decodeReport(envelope);
    expect(r.ok && r.value.kind === "heartbeat" && r.value.body.queueDepth).toBe(0);
  });

  it.each([
    ["a future schema version", { ...envelope, v: 2 }, "v"],
    ["an unknown kind", { ...envelope, kind: "gossip" }, "kind"],
    ["a device id with a subject wildcard", { ...envelope, deviceId: "dev.>" }, "deviceId"],
    ["a msgId that is not a uuid", { ...envelope, msgId: "42" }, "msgId"],
    ["a negative seq", { ...envelope, seq: -1 }, "seq"],
    ["a body of the wrong kind", { ...envelope, kind: "inventory" }, "body"],
  ])("rejects %s", (_n, value, path) => {
    const r = decodeReport(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(path);
  });
});

describe("REST and command schemas", () => {
  it("refuses a private key in an enrollment request", () => {
    const r = ZEnrollRequestV1.safeParse({
      token: "t".repeat(43), hostname: "ws", agentVersion: "0.1.0",
      publicKeyJwk: { kty: "OKP", crv: "Ed25519", x: "a".repeat(43), d: "b".repeat(43) },
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("d");
  });

  it("fills benchmark command defaults as llama-bench does (pp512, tg128)", () => {
    const c = ZCommandV1.parse({
      v: 1, commandId: "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", deviceId: "dev-1", issuedAt: "2026-11-25T08:00:00.000Z",
      expiresAt: "2026-11-25T08:05:00.000Z", body: { type: "benchmark", modelId: null },
    });
    expect(c.body).toEqual({ type: "benchmark", modelId: null, nPrompt: 512, nGen: 128, repetitions: 5 });
  });

  it("a command must expire, after it was issued and within the longest lifetime", () => {
    const base = { v: 1, commandId: "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", deviceId: "dev-1", issuedAt: "2026-11-25T08:00:00.000Z", body: { type: "report-now" } };
    expect(ZCommandV1.safeParse({ ...base, expiresAt: "2026-11-25T08:05:00.000Z" }).success).toBe(true);
    expect(JSON.stringify(ZCommandV1.safeParse(base).error?.issues)).toContain("expiresAt");
    expect(ZCommandV1.safeParse({ ...base, expiresAt: "2026-11-25T07:59:00.000Z" }).success).toBe(false);
    expect(ZCommandV1.safeParse({ ...base, expiresAt: "2027-11-25T08:00:00.000Z" }).error?.issues[0]?.message).toMatch(/at most 60 minutes/);
  });

  it("validates device-revoked announcements between server instances", () => {
    const ok = { v: 1, deviceId: "dev-1", revokedAt: "2026-11-25T08:00:00.000Z", origin: "srv-a" };
    expect(ZDeviceRevokedV1.parse(ok)).toEqual(ok);
    expect(ZDeviceRevokedV1.safeParse({ ...ok, deviceId: "dev.*" }).success).toBe(false);
    expect(ZDeviceRevokedV1.safeParse({ ...ok, origin: "" }).success).toBe(false);
    expect(ZDeviceRevokedV1.safeParse({ ...ok, v: 2 }).success).toBe(false);
  });

  it("coerces and bounds list queries", () => {
    expect(ZDeviceListQueryV1.parse({ page: "2", pageSize: "10" })).toMatchObject({ page: 2, pageSize: 10 });
    expect(ZDeviceListQueryV1.safeParse({ pageSize: "1000" }).success).toBe(false);
    expect(ZDeviceListQueryV1.safeParse({ status: "sleeping" }).success).toBe(false);
  });
});
