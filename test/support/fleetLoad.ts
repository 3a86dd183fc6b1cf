// A load generator for fault tests: N devices enrolled through the real REST API (their own Ed25519 keys and NATS
// users) publish signed reports over JetStream, each device one report after another and each report until
// JetStream acks it, as the agent's on-disk queue does (same msgId on every retry, so a publish whose ack was lost is
// a duplicate, never a second report). What it intended to send is then counted from the database, by msgId.
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { connect, jwtAuthenticator, nkeys, type JetStreamClient, type NatsConnection } from "nats";
import type { CryptoKey } from "jose";
import { createPrismaClient } from "@fleet/db";
import { waitFor } from "@fleet/test-utils";
import {
  deviceInboxPrefix,
  exampleEvents,
  exampleHeartbeat,
  exampleInventory,
  exampleModels,
  examplePosture,
  generateSigningKeyPair,
  importPrivateJwk,
  signReport,
  subjects,
  type ReportKind,
  type TEnrollResponseV1,
  type TReportV1,
} from "@fleet/protocol";

export interface LoadDevice {
  id: string;
  hostname: string;
  subjectPrefix: string;
  key: CryptoKey;
  nc: NatsConnection;
  js: JetStreamClient;
  seq: number;
}

/** A one-time enrollment token from the admin API of the server at `serverUrl`. */
export async function enrollmentToken(serverUrl: string, adminToken: string): Promise<string> {
  const res = await fetch(`${serverUrl}/api/v1/enrollment-tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ttlSeconds: 600 }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`enrollment token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * One device enrolled as the agent enrolls (its own signing key and NATS nkey; the server answers with a user JWT),
 * its NATS connection reconnecting forever every 250 ms, as a device riding out a broker restart.
 */
export async function enrollLoadDevice(serverUrl: string, natsUrl: string, adminToken: string, hostname: string): Promise<LoadDevice> {
  const { publicJwk, privateJwk } = await generateSigningKeyPair();
  const natsUser = nkeys.createUser();
  const res = await fetch(`${serverUrl}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: await enrollmentToken(serverUrl, adminToken), publicKeyJwk: publicJwk, hostname, agentVersion: "0.1.0", natsUserKey: natsUser.getPublicKey() }),
  });
  if (res.status !== 201) throw new Error(`enroll ${hostname}: HTTP ${res.status} ${await res.text()}`);
  const enrollment = (await res.json()) as TEnrollResponseV1;
  const auth = enrollment.natsUserJwt
    ? { authenticator: jwtAuthenticator(enrollment.natsUserJwt, natsUser.getSeed()), inboxPrefix: deviceInboxPrefix(enrollment.deviceId) }
    : {};
  const nc = await connect({ servers: natsUrl, name: hostname, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...auth });
  return { id: enrollment.deviceId, hostname, subjectPrefix: enrollment.subjectPrefix, key: await importPrivateJwk(privateJwk), nc, js: nc.jetstream(), seq: 0 };
}

/**
 * `n` devices, enrolled 5 at a time. An enrollment answered 5xx is tried again (twice at most, with a new token): on
 * a loaded CI machine the server's enrollment transaction can time out waiting for a connection; that is not the
 * fault under test.
 */
export async function enrollLoadDevices(serverUrl: string, natsUrl: string, adminToken: string, n: number, prefix: string): Promise<LoadDevice[]> {
  const one = async (hostname: string): Promise<LoadDevice> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await enrollLoadDevice(serverUrl, natsUrl, adminToken, hostname);
      } catch (err) {
        if (attempt >= 3 || !/HTTP 5\d\d/.test((err as Error).message)) throw err;
      }
    }
  };
  const out: LoadDevice[] = [];
  for (let i = 0; i < n; i += 5) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(5, n - i) }, (_, k) => one(`${prefix}-${String(i + k).padStart(3, "0")}`)))));
  }
  return out;
}

/** Report k of a device: heartbeats mostly, and every kind's writer on the way (events take the Prisma lane). */
const MIX: ReportKind[] = ["heartbeat", "inventory", "heartbeat", "models", "heartbeat", "posture", "heartbeat", "events"];

export function reportBody(kind: ReportKind, hostname: string, k: number): TReportV1["body"] {
  switch (kind) {
    case "heartbeat":
      return { ...exampleHeartbeat, uptimeSec: 10 + k };
    case "inventory":
      return { ...exampleInventory, collectedAt: new Date().toISOString(), os: { ...exampleInventory.os, hostname } };
    case "models":
      return exampleModels;
    case "posture":
      return examplePosture;
    case "events":
      return { events: exampleEvents.events.map((e) => ({ ...e, at: new Date().toISOString() })) };
    default:
      throw new Error(`no load body for ${kind}`);
  }
}

/** A signed report of `kind` from device `d` (the next seq, a fresh msgId, sentAt now). */
export async function signedReport(d: LoadDevice, kind: ReportKind, over: Partial<TReportV1> = {}): Promise<{ report: TReportV1; jws: string }> {
  const report = { v: 1, kind, deviceId: d.id, msgId: randomUUID(), seq: d.seq++, sentAt: new Date().toISOString(), body: reportBody(kind, d.hostname, d.seq), ...over } as TReportV1;
  return { report, jws: await signReport(report, d.key) };
}

export interface LoadOptions {
  /** reports each device sends */
  reportsPerDevice: number;
  /** pause between one device's acked report and its next (load shaping, not synchronization) */
  intervalMs: number;
  /** JetStream publish timeout before the same bytes are published again */
  publishTimeoutMs?: number;
  /** give up on one report after this long (a test failure, not a lost report) */
  giveUpMs?: number;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every device sends its reports; `done` settles once each was acked by JetStream (or one gave up: rejects). */
export class ReportLoad {
  /** msgId -> kind of every report the generator signed (it intends to send each one until acked) */
  readonly intended = new Map<string, ReportKind>();
  acked = 0;
  /** publishes that failed (timeout, no connection) and were sent again with the same msgId */
  retries = 0;
  /** acks that JetStream marked duplicate (a retry of a publish that had been stored after all) */
  duplicateAcks = 0;
  readonly done: Promise<void>;

  constructor(
    private readonly devices: LoadDevice[],
    private readonly opts: LoadOptions,
  ) {
    this.done = Promise.all(devices.map((d, i) => this.run(d, i))).then(() => undefined);
    // awaited by the test; this only keeps an early failure from being reported as unhandled meanwhile
    this.done.catch(() => undefined);
  }

  get total(): number {
    return this.devices.length * this.opts.reportsPerDevice;
  }

  private async run(d: LoadDevice, index: number): Promise<void> {
    const subj = subjects(d.subjectPrefix);
    for (let k = 0; k < this.opts.reportsPerDevice; k++) {
      const kind = MIX[(k + index) % MIX.length]!;
      const { report, jws } = await signedReport(d, kind);
      this.intended.set(report.msgId, kind);
      await this.publishUntilAcked(d, subj.report(d.id, kind), encoder.encode(jws), report.msgId);
      if (this.opts.intervalMs > 0) await sleep(this.opts.intervalMs);
    }
  }

  private async publishUntilAcked(d: LoadDevice, subject: string, data: Uint8Array, msgId: string): Promise<void> {
    const deadline = Date.now() + (this.opts.giveUpMs ?? 90_000);
    for (;;) {
      try {
        const ack = await d.js.publish(subject, data, { msgID: msgId, timeout: this.opts.publishTimeoutMs ?? 2_000 });
        this.acked++;
        if (ack.duplicate) this.duplicateAcks++;
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${d.hostname}: report ${msgId} not acked after ${this.opts.giveUpMs ?? 90_000} ms: ${(err as Error).message}`);
        this.retries++;
        await sleep(200);
      }
    }
  }
}

export interface Accounting {
  /** ProcessedMessage rows among the intended msgIds */
  stored: number;
  /** intended msgIds with no ProcessedMessage row */
  lost: string[];
  /** rows beyond one per msgId, summed over every table unique on msgId alone (0 unless a constraint is gone) */
  duplicated: number;
  /** ProcessedMessage rows of these devices whose msgId the generator never signed */
  foreign: number;
  /** stored reports per kind, from ProcessedMessage */
  byKind: Record<string, number>;
  /** rows in each per-report table (Heartbeat, ...) for the intended msgIds */
  perTable: Record<string, number>;
}

/** What of `intended` (msgId -> kind) the database at `url` holds, for the devices `deviceIds`. */
export async function accountReports(url: string, intended: Map<string, ReportKind>, deviceIds: string[]): Promise<Accounting> {
  const db = createPrismaClient(url, { pool: { max: 1 } });
  try {
    const rows = await db.$queryRawUnsafe<{ msgId: string; kind: string }[]>(`SELECT "msgId", kind FROM "ProcessedMessage" WHERE "deviceId" = ANY($1::text[])`, deviceIds);
    const stored = new Set<string>();
    const byKind: Record<string, number> = {};
    let foreign = 0;
    for (const r of rows) {
      if (!intended.has(r.msgId)) foreign++;
      else stored.add(r.msgId);
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    }
    const lost = [...intended.keys()].filter((id) => !stored.has(id));
    // every table with a unique index on msgId alone: one row per report there (checked, not assumed)
    const tables = await db.$queryRawUnsafe<{ table_name: string }[]>(
      `SELECT DISTINCT t.relname::text AS table_name FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
       WHERE i.indisunique AND i.indnatts = 1 AND a.attname = 'msgId' AND t.relnamespace = current_schema()::regnamespace ORDER BY 1`,
    );
    const ids = [...intended.keys()];
    let duplicated = 0;
    const perTable: Record<string, number> = {};
    for (const { table_name: t } of tables) {
      const [c] = await db.$queryRawUnsafe<{ n: number; d: number }[]>(
        `SELECT count(*)::int AS n, (count(*) - count(DISTINCT "msgId"))::int AS d FROM "${t}" WHERE "msgId" = ANY($1::text[])`,
        ids,
      );
      perTable[t] = c!.n;
      duplicated += c!.d;
    }
    return { stored: stored.size, lost, duplicated, foreign, byKind, perTable };
  } finally {
    await db.$disconnect();
  }
}

/**
 * Every report of `intended` (msgId -> kind) stored exactly once in the database at `url`: waits until none is lost,
 * then asserts `expected` reports were intended (when given), each has its ProcessedMessage row, no table unique on
 * msgId holds one twice, the devices have no row the generator never signed, the kinds add up, and each heartbeat
 * has its Heartbeat row. Returns the accounting for the test's own checks.
 */
export async function expectEveryReportStoredOnce(
  url: string,
  intended: Map<string, ReportKind>,
  deviceIds: string[],
  opts: { expected?: number; what?: string; timeoutMs?: number } = {},
): Promise<Accounting> {
  const acct = await waitFor(
    async () => {
      const a = await accountReports(url, intended, deviceIds);
      return a.lost.length === 0 ? a : null;
    },
    opts.what ?? `all ${intended.size} reports in the database`,
    opts.timeoutMs ?? 90_000,
  );
  if (opts.expected !== undefined) expect(intended.size).toBe(opts.expected);
  const byKind = countByKind(intended);
  expect(acct.stored).toBe(intended.size);
  expect(acct.duplicated).toBe(0);
  expect(acct.foreign).toBe(0);
  expect(acct.byKind).toEqual(byKind);
  expect(acct.perTable.Heartbeat ?? 0).toBe(byKind.heartbeat ?? 0);
  return acct;
}

/** Intended reports per kind. */
export function countByKind(intended: Map<string, ReportKind>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of intended.values()) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** Close every device's NATS connection. */
export async function closeLoadDevices(devices: LoadDevice[]): Promise<void> {
  await Promise.all(devices.map((d) => d.nc.close().catch(() => undefined)));
}
