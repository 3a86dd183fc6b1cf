import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgAdapter, PrismaClient, type Prisma } from "@fleet/db";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import type { ReportBody } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { FleetEventBus } from "../events/fleet-events.js";
import { postureBody } from "../testing/fixtures.js";
import { ComplianceRepository } from "./compliance.repository.js";
import { ComplianceService } from "./compliance.service.js";

const APPROVED_SHA = "a".repeat(64);
const ROGUE_SHA = "b".repeat(64);
const OTHER_SHA = "c".repeat(64);
const EARLIER = new Date("2026-11-20T10:00:00.000Z");
// one instant for every ledger entry on both databases, recent enough to count as evidence
const LEDGER_AT = new Date(Date.now() - 3_600_000);
const log = pino({ level: "silent" });

/** A database, a client on it that counts the statements it sends, and a compliance service over that client. */
interface Side {
  db: TestDatabase;
  client: PrismaClient;
  service: ComplianceService;
  statements: number;
}

async function side(): Promise<Side> {
  const db = await createTestDatabase();
  const client = new PrismaClient({ adapter: pgAdapter(db.url), log: [{ emit: "event", level: "query" }] });
  const s: Side = { db, client, service: new ComplianceService(new ComplianceRepository(client), log, new FleetEventBus()), statements: 0 };
  client.$on("query", () => s.statements++);
  return s;
}

const posture = (over: Partial<ReportBody<"posture">> = {}): ReportBody<"posture"> => ({ ...postureBody(), ...over });

/** Devices as ingestion would leave them: latest posture (an older one before it), installed models, egress ledger. */
async function seedDevice(
  db: PrismaClient,
  id: string,
  o: { state?: "active" | "revoked"; postures?: ReportBody<"posture">[]; models?: { sha: string; removed?: boolean }[]; egress?: string[]; open?: { id: string; policy: string; subject: string }[] },
): Promise<void> {
  await db.device.create({ data: { id, hostname: `host-${id}`, state: o.state ?? "active", publicKeyJwk: {}, publicKeyThumbprint: `tp-${id}` } });
  for (const [i, p] of (o.postures ?? []).entries()) {
    await db.postureReport.create({
      data: {
        deviceId: id, msgId: `${id}-posture-${i}`, receivedAt: new Date(EARLIER.getTime() + i * 60_000), telemetry: p.telemetry, remoteFallback: p.remoteFallback.enabled,
        promptsLeave: p.promptsLeaveDevice, apiEnabled: p.localApi.enabled, apiBindAddress: p.localApi.bindAddress, apiLoopbackOnly: p.localApi.loopbackOnly,
        apiAuthRequired: p.localApi.authRequired, data: p as unknown as Prisma.InputJsonValue,
      },
    });
  }
  for (const [i, m] of (o.models ?? []).entries()) {
    await db.installedModel.create({ data: { deviceId: id, path: `/models/m${i}.gguf`, fileName: `m${i}.gguf`, sizeBytes: 1000n, mtimeMs: 1, sha256: m.sha, removedAt: m.removed ? EARLIER : null } });
  }
  for (const host of o.egress ?? []) {
    await db.egressDestination.create({
      data: { deviceId: id, purpose: "inference", host, port: 443, address: "", bytesSent: 10n, bytesReceived: 20n, connections: 1, firstSeenAt: LEDGER_AT, lastSeenAt: LEDGER_AT, reportedAt: LEDGER_AT },
    });
  }
  for (const v of o.open ?? []) {
    await db.complianceViolation.create({ data: { id: v.id, deviceId: id, policy: v.policy, subject: v.subject, detail: "seeded", evidence: {}, firstSeenAt: EARLIER, lastSeenAt: EARLIER } });
  }
}

/** The same fixture on any database: one compliant device, violating ones, one whose violation resolves, a revoked one. */
async function seedMix(db: PrismaClient): Promise<void> {
  await db.catalogEntry.create({
    data: {
      name: "tiny", version: "1", targetPath: "tiny-1.gguf", state: "approved", sha256: APPROVED_SHA, sizeBytes: 1000n, architecture: "llama",
      quantization: "Q8_0", parameterCount: 1000n, contextLength: 512, license: "mit", facts: {}, createdBy: "test", stateChangedBy: "test",
    },
  });
  await db.compliancePolicy.create({ data: { id: "outbound_allowlist", enabled: true, allowlist: ["127.0.0.1:4222"], maxTelemetry: "metrics-only", updatedBy: "test" } });
  await seedDevice(db, "d-compliant", { postures: [posture()], models: [{ sha: APPROVED_SHA }], egress: [] });
  await seedDevice(db, "d-violating", {
    // the older posture was fine: only the latest counts
    postures: [posture(), posture({ telemetry: "full", localApi: { ...postureBody().localApi, bindAddress: "0.0.0.0", loopbackOnly: false, authRequired: false } })],
    models: [{ sha: APPROVED_SHA }, { sha: ROGUE_SHA }, { sha: OTHER_SHA, removed: true }],
    egress: ["evil.example"],
    // continuing: must get last seen = now and the current detail, never a second row
    open: [{ id: "seed-continuing-telemetry", policy: "telemetry_max", subject: "telemetry" }, { id: "seed-continuing-model", policy: "approved_models", subject: ROGUE_SHA }],
  });
  await seedDevice(db, "d-resolving", { postures: [posture()], models: [{ sha: APPROVED_SHA }], open: [{ id: "seed-resolving", policy: "approved_models", subject: ROGUE_SHA }] });
  await seedDevice(db, "d-no-posture", { models: [{ sha: ROGUE_SHA }] });
  await seedDevice(db, "d-revoked", { state: "revoked", postures: [posture({ telemetry: "full" })], models: [{ sha: ROGUE_SHA }], open: [{ id: "seed-revoked", policy: "approved_models", subject: OTHER_SHA }] });
}

/** Every violation row, comparable across databases: ids the database generated are left out, seeded ones kept. */
async function rows(db: PrismaClient): Promise<unknown[]> {
  const all = await db.complianceViolation.findMany({ orderBy: [{ deviceId: "asc" }, { policy: "asc" }, { subject: "asc" }, { firstSeenAt: "asc" }] });
  return all.map((v) => ({ ...v, id: v.id.startsWith("seed-") ? v.id : "generated" }));
}

const MIX = ["d-compliant", "d-violating", "d-resolving", "d-no-posture", "d-revoked", "d-absent"];

describe("bulk compliance evaluation", () => {
  let oneByOne: Side;
  let bulk: Side;

  beforeAll(async () => {
    [oneByOne, bulk] = await Promise.all([side(), side()]);
    await Promise.all([seedMix(oneByOne.client), seedMix(bulk.client)]);
  });
  afterAll(async () => {
    for (const s of [oneByOne, bulk]) {
      await s?.service.onApplicationShutdown();
      await s?.client.$disconnect();
      await s?.db.drop();
    }
  });

  it("stores exactly the rows one-by-one evaluation stores, and returns the same counts", async () => {
    const at = new Date("2026-11-28T12:00:00.123Z");
    const single = new Map<string, unknown>();
    for (const id of MIX) single.set(id, await oneByOne.service.evaluate(id, at));
    const many = await bulk.service.evaluateMany(MIX, at);

    expect(Object.fromEntries(MIX.map((id) => [id, many.get(id) ?? null]))).toEqual(Object.fromEntries(single));
    expect(many.get("d-violating")).toEqual({ opened: 3, resolved: 0 });
    expect(many.get("d-resolving")).toEqual({ opened: 0, resolved: 1 });
    expect(many.has("d-revoked") || many.has("d-absent")).toBe(false);

    const bulkRows = await rows(bulk.client);
    expect(bulkRows).toEqual(await rows(oneByOne.client));
    const open = (await bulk.client.complianceViolation.findMany({ where: { resolvedAt: null } })).map((v) => `${v.deviceId} ${v.policy} ${v.subject}`).sort();
    expect(open).toEqual(
      [
        "d-no-posture approved_models " + ROGUE_SHA,
        "d-revoked approved_models " + OTHER_SHA, // revoked devices are not evaluated: left as they were
        "d-violating api_auth local-api",
        "d-violating api_loopback local-api",
        "d-violating approved_models " + ROGUE_SHA,
        "d-violating outbound_allowlist evil.example:443",
        "d-violating telemetry_max telemetry",
      ].sort(),
    );
    const continuing = await bulk.client.complianceViolation.findUniqueOrThrow({ where: { id: "seed-continuing-telemetry" } });
    expect(continuing).toMatchObject({ firstSeenAt: EARLIER, lastSeenAt: at, resolvedAt: null, detail: "telemetry is full, at most metrics-only is allowed", evidence: { telemetry: "full", max: "metrics-only" } });
    expect(await bulk.client.complianceViolation.findUniqueOrThrow({ where: { id: "seed-resolving" } })).toMatchObject({ lastSeenAt: EARLIER, resolvedAt: at });
  });

  it("a second pass only moves last seen: no duplicates, nothing opened or resolved", async () => {
    const at = new Date("2026-11-28T12:05:00.000Z");
    for (const id of MIX) await oneByOne.service.evaluate(id, at);
    const before = await bulk.client.complianceViolation.count();
    const many = await bulk.service.evaluateMany(MIX, at);
    expect([...many.values()].every((r) => r.opened === 0 && r.resolved === 0)).toBe(true);
    expect(await bulk.client.complianceViolation.count()).toBe(before);
    expect(await rows(bulk.client)).toEqual(await rows(oneByOne.client));
    const open = await bulk.client.complianceViolation.findMany({ where: { resolvedAt: null, deviceId: { not: "d-revoked" } } });
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((v) => v.lastSeenAt.getTime() === at.getTime())).toBe(true);
  });

  it("200 devices: the same rows in a constant number of statements (counted, printed for the report)", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `fleet-${String(i).padStart(3, "0")}`);
    const seed = async (db: PrismaClient) => {
      for (const [i, id] of ids.entries()) {
        await seedDevice(db, id, {
          postures: i % 4 === 0 ? [] : [posture(i % 2 ? { telemetry: "full" } : {})],
          models: [{ sha: i % 3 ? APPROVED_SHA : ROGUE_SHA }],
          egress: i % 5 === 0 ? ["elsewhere.example"] : [],
          open: i % 7 === 0 ? [{ id: `seed-${id}`, policy: "approved_models", subject: OTHER_SHA }] : [],
        });
      }
    };
    await Promise.all([seed(oneByOne.client), seed(bulk.client)]);
    const at = new Date("2026-11-28T13:00:00.000Z");

    oneByOne.statements = 0;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    for (const id of ids) await oneByOne.service.evaluate(id, at);
    const singleMs = performance.now() - t0;
    const singleCpu = process.cpuUsage(cpu0);
    const singleStatements = oneByOne.statements;
    bulk.statements = 0;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    await bulk.service.evaluateMany(ids, at);
    const bulkMs = performance.now() - t0;
    const bulkCpu = process.cpuUsage(cpu0);
    const cpuMs = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);
    const bulkStatements = bulk.statements;
    // times for information only (shared machine): the assertions are on statements and rows
    console.log(
      `compliance, 200 devices: one-by-one ${singleStatements} statements, ${Math.round(singleMs)} ms wall, ${cpuMs(singleCpu)} ms process CPU; ` +
        `bulk ${bulkStatements} statements, ${Math.round(bulkMs)} ms wall, ${cpuMs(bulkCpu)} ms process CPU`,
    );

    expect(await rows(bulk.client)).toEqual(await rows(oneByOne.client));
    // devices, postures, models, approved hashes, egress, policies; BEGIN, locks, open violations, insert, update, resolve, COMMIT
    expect(bulkStatements).toBeLessThanOrEqual(13);
    expect(singleStatements).toBeGreaterThanOrEqual(200 * 8);
  });

  it("takes the same per-device lock as a single evaluation: waits while another transaction holds one of its devices", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    // another instance evaluating d-violating alone (bulk.db.prisma is a second pool on the same database)
    const holder = bulk.db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"compliance:d-violating"}))`;
        locked();
        await held;
      },
      { timeout: 60_000 },
    );
    await lockTaken;
    let done = false;
    const evaluation = bulk.service.evaluateMany(MIX, new Date("2026-11-28T14:00:00.000Z")).then((r) => ((done = true), r));
    await waitFor(
      async () => (await bulk.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)[0]!.n > 0,
      "the bulk evaluation waiting for the held device lock",
      30_000,
    );
    expect(done).toBe(false);
    release();
    await holder;
    expect((await evaluation).get("d-violating")).toEqual({ opened: 0, resolved: 0 });
  });
});
