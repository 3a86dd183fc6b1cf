import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { NatsService } from "../nats/nats.service.js";
import { RetentionService } from "../retention/retention.service.js";
import { heartbeatBody, metricValue } from "../testing/fixtures.js";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../testing/test-server.js";

// Floods every path that used to grow without bound, against a real server, PostgreSQL and nats-server, and shows
// what stays bounded: aggregated audit rows, rate-limited REST, pruned tables, size-limited streams.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ RATE_LIMIT_PER_MIN: "300", ENROLL_RATE_LIMIT_PER_MIN: "40", REPORT_STREAM_MAX_BYTES: String(64 * 1024 ** 2) });
});
afterAll(async () => t?.close());

const db = () => t.db.prisma;
const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await t.metrics(), name, labels);
const rejectedTotal = async () => {
  let sum = 0;
  for (const line of (await t.metrics()).split("\n")) if (line.startsWith("fleet_reports_rejected_total{")) sum += Number(line.split(" ")[1]);
  return sum;
};
const auditRows = (action: string) => db().auditLog.findMany({ where: { action } });
const counted = (rows: { details: unknown }[]) => rows.reduce((n, r) => n + Number((r.details as { count: number }).count), 0);

describe("bounded growth under floods", () => {
  it("a flood of rejected reports is counted in full but audited as one row per reason per device per hour", async () => {
    const a = await t.enrollDevice("flood-a");
    const otherKey = await importPrivateJwk((await generateSigningKeyPair()).privateJwk);
    const before = await rejectedTotal();
    const N = 120;
    for (let i = 0; i < N; i++) {
      // half garbage, half well-formed reports signed with a key that is not the device's
      if (i % 2) await a.publishRaw("heartbeat", `not a report ${i}`);
      else await a.nc.jetstream().publish(`${t.config.subjectPrefix}.device.${a.id}.heartbeat`, new TextEncoder().encode(await a.sign(a.report("heartbeat", heartbeatBody()), otherKey)));
    }
    await waitFor(async () => (await rejectedTotal()) - before >= N, `${N} rejections counted`, 30_000);
    const rows = await auditRows("report.rejected");
    expect(counted(rows)).toBe(N);
    const reasons = new Set(rows.map((r) => (r.details as { reason: string }).reason));
    // one row per (reason, device) per hour bucket: a flood that straddles the hour may have two
    expect(rows.length).toBeLessThanOrEqual(reasons.size * 2);
    expect(reasons.size).toBeGreaterThanOrEqual(2);
    expect(rows[0]!.details).toMatchObject({ count: expect.any(Number), firstAt: expect.any(String), lastAt: expect.any(String), last: expect.any(Object) });
  });

  it("a flood of failed enrollments is rate-limited per client, counted, and audited as one row per reason per hour", async () => {
    const { publicJwk } = await generateSigningKeyPair();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${t.url}/api/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `10.9.${i}.1` },
        body: JSON.stringify({ token: `wrong-token-${randomUUID()}`, publicKeyJwk: { kty: "OKP", crv: "Ed25519", x: publicJwk.x }, hostname: `h${i}`, agentVersion: "0.1.0" }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
      else await res.body?.cancel();
    }
    // X-Forwarded-For is not trusted without FLEET_TRUSTED_PROXY: the 60 attempts share one client budget of 40 per
    // minute (of which the device enrolled by the test above used one)
    const refused = statuses.filter((s) => s === 401).length;
    expect(refused).toBe(39);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - refused);
    expect(await metric("fleet_http_throttled_total", { limit: "enroll" })).toBe(60 - refused);
    expect(await metric("fleet_enrollments_refused_total", { reason: "invalid" })).toBe(refused);
    const rows = await auditRows("enroll.refused");
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(counted(rows)).toBe(refused);
  });

  it("every REST client has one budget per minute, whatever X-Forwarded-For says; the admin token is not limited", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 320; i++) {
      const res = await fetch(`${t.url}/health`, { headers: { "x-forwarded-for": `10.8.${i % 250}.${i % 7}` } });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    // the other tests in this file used part of the same budget: at most 300 got through, the rest were refused
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(300);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(await metric("fleet_http_throttled_total", { limit: "api" })).toBeGreaterThanOrEqual(20);
    // the same client with the admin token (the console relays every admin from one address) still gets through
    const admin = await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.status).toBe(200);
    // without it, an admin route answers 401 before any work (the admin guard runs first), throttled or not
    const anonymous = await fetch(`${t.url}/api/v1/devices`);
    expect(anonymous.status).toBe(401);
  });

  it("every JetStream stream has a byte and an age limit", async () => {
    const jsm = t.server.app.get(NatsService).jsm;
    for (const name of [t.config.stream, t.config.commandStream]) {
      const { config } = await jsm.streams.info(name);
      expect(config.max_bytes, name).toBeGreaterThan(0);
      expect(config.max_age, name).toBeGreaterThan(0);
    }
    expect((await jsm.streams.info(t.config.stream)).config.max_bytes).toBe(64 * 1024 ** 2);
  });
});

describe("with a trusted proxy", () => {
  let p: TestServer;
  beforeAll(async () => {
    p = await startTestServer({ RATE_LIMIT_PER_MIN: "20", FLEET_TRUSTED_PROXY: "loopback" });
  });
  afterAll(async () => p?.close());

  it("X-Forwarded-For from that proxy names the client: each has its own budget", async () => {
    const get = async (xff: string) => {
      const res = await fetch(`${p.url}/health`, { headers: { "x-forwarded-for": xff } });
      await res.body?.cancel();
      return res.status;
    };
    const distinct = await Promise.all(Array.from({ length: 30 }, (_, i) => get(`198.51.100.${i + 1}`)));
    expect(distinct.every((s) => s === 200)).toBe(true);
    const same: number[] = [];
    for (let i = 0; i < 30; i++) same.push(await get("203.0.113.7"));
    expect(same.filter((s) => s === 200)).toHaveLength(20);
    expect(same.filter((s) => s === 429)).toHaveLength(10);
  });
});

describe("retention of the tables that grew forever", () => {
  let r: TestServer;
  const DAY = 86_400_000;
  const ago = (days: number) => new Date(Date.now() - days * DAY);
  beforeAll(async () => {
    r = await startTestServer({ RETENTION_BATCH_SIZE: "2", AUDIT_RETENTION_DAYS: "30", POSTURE_RETENTION_DAYS: "30", RUNTIME_METRIC_RETENTION_DAYS: "30", MODEL_LOAD_RETENTION_DAYS: "30", BENCHMARK_RETENTION_DAYS: "30" });
  });
  afterAll(async () => r?.close());

  it("prunes audit, posture, runtime metrics, model loads and benchmark runs, keeping the latest the UI shows", async () => {
    const dev = await r.enrollDevice("ret-growth");
    const p = r.db.prisma;
    const deviceId = dev.id;
    const posture = (receivedAt: Date) =>
      p.postureReport.create({ data: { deviceId, msgId: randomUUID(), receivedAt, telemetry: "off", remoteFallback: false, promptsLeave: false, apiEnabled: true, apiBindAddress: "127.0.0.1", apiLoopbackOnly: true, apiAuthRequired: true, data: {} } });
    const runtime = (modelId: string, receivedAt: Date) =>
      p.runtimeMetric.create({ data: { deviceId, msgId: randomUUID(), modelId, windowStart: receivedAt, windowEnd: receivedAt, receivedAt, requests: 1, errors: 0, promptTokens: 1, outputTokens: 1 } });
    const load = (modelId: string, at: Date) =>
      p.modelLoad.create({ data: { deviceId, msgId: randomUUID(), idx: 0, at, modelId, ok: true, loadMs: 1, backend: "cpu", gpuLayers: 0, contextSize: 512, peakRssBytes: 1n, peakVramBytes: 0n } });
    const bench = (requestedAt: Date) => p.benchmarkRun.create({ data: { deviceId, requestedAt, status: "completed" } });
    const audit = (at: Date) => p.auditLog.create({ data: { at, actor: "admin", action: "test.growth" } });

    const gone = {
      posture: [await posture(ago(60)), await posture(ago(40))],
      runtime: [await runtime("m1", ago(60)), await runtime("m1", ago(50)), await runtime("m2", ago(70))],
      load: [await load("m1", ago(60)), await load("m1", ago(45))],
      bench: [await bench(ago(90)), await bench(ago(60))],
      audit: [await audit(ago(100)), await audit(ago(31)), await audit(ago(40))],
    };
    const kept = {
      posture: [await posture(ago(1))],
      runtime: [await runtime("m1", ago(40)), await runtime("m2", ago(1))], // m1's latest is old but stays: the UI shows it
      load: [await load("m1", ago(35)), await load("m2", ago(100))], // m2's only load stays
      bench: [await bench(ago(31))], // the device's latest run stays however old
      audit: [await audit(ago(1))],
    };
    // The m1 window at 40 days is m1's latest only if nothing newer exists for m1: true here.
    const run = await r.server.app.get(RetentionService).runOnce();
    expect(run).toMatchObject({ skipped: false, deleted: { PostureReport: 2, RuntimeMetric: 3, ModelLoad: 2, BenchmarkRun: 2, AuditLog: 3 } });
    const ids = (rows: { id: string }[]) => rows.map((x) => x.id).sort();
    expect(ids(await p.postureReport.findMany({ where: { deviceId } }))).toEqual(ids(kept.posture));
    expect(ids(await p.runtimeMetric.findMany({ where: { deviceId } }))).toEqual(ids(kept.runtime));
    expect(ids(await p.modelLoad.findMany({ where: { deviceId } }))).toEqual(ids(kept.load));
    expect(ids(await p.benchmarkRun.findMany({ where: { deviceId } }))).toEqual(ids(kept.bench));
    expect(ids(await p.auditLog.findMany({ where: { action: "test.growth" } }))).toEqual(ids(kept.audit));
    expect(gone.audit).toHaveLength(3);
    expect(metricValue(await r.metrics(), "fleet_retention_deleted_total", { table: "AuditLog" })).toBeGreaterThanOrEqual(3);
  });
});
