import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompactSign, importJWK } from "jose";
import { REPORT_JWS_TYP, subjects, type ReportKind, type TReportV1 } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { expectEveryReportStoredOnce, ReportLoad, reportBody, signedReport, type LoadDevice } from "../support/fleetLoad.js";
import { metricValue, type ServerProcess } from "../support/faultServer.js";
import { startFaultFleet, type FaultFleet } from "../support/faultFleet.js";

const REAL_DEVICES = 20;
const REAL_REPORTS_PER_DEVICE = 25;
const MB = 2 ** 20;
const encoder = new TextEncoder();

/** One hostile message: where it goes, its bytes, and what the server must make of it. */
interface Hostile {
  conn: "attacker" | "rogue";
  subject: string;
  data: Uint8Array;
  /** a fleet_reports_rejected_total reason, or "duplicate" (a replayed msgId: counted, never stored twice) */
  expect: string;
  /** msgId inside, when it has one: must not be stored */
  msgId?: string;
}

const b64 = (s: string) => Buffer.from(s).toString("base64url");

// 10,000 hostile messages at the server (a separate process: production entry point, RSS from /proc) while 20 real
// devices send 500 signed reports: garbage, unsigned JSON, oversized reports, flipped signature and payload bytes, forged signatures
// for another device, cross-device claims, unknown devices, wrong schema versions and bodies, wrong subjects, stale
// and future timestamps, and replayed msgIds. Every real report is stored, none of the hostile ones; the
// rejection counters account for each by reason; /health stays 200 throughout and the server's RSS stays bounded.
describe("fault: hostile messages while real reports flow", () => {
  let fleet: FaultFleet<false, "process">;
  let db: FaultFleet<false, "process">["db"];
  let srv: ServerProcess;
  let real: LoadDevice[] = [];
  let attacker: LoadDevice;
  let rogue: NatsConnection;

  beforeAll(async () => {
    fleet = await startFaultFleet({ name: "fault-hostile", devices: REAL_DEVICES + 1, env: { LOG_LEVEL: "warn" } });
    ({ db, srv } = fleet);
    [attacker, ...real] = fleet.devices;
    // a publisher with more NATS rights than any device (a leaked server credential, or NATS without per-device auth):
    // it reaches subjects the devices' own users may not publish to
    rogue = await connect(fleet.nats.connectOptions());
  });
  afterAll(async () => {
    await rogue?.close();
    await fleet?.close();
  });

  /** The hostile corpus, built up front (signing is the attacker's cost, not the server's). */
  async function corpus(victim: LoadDevice, replayable: { deviceId: string; jws: string; msgId: string }[]): Promise<Hostile[]> {
    const subjA = subjects(attacker.subjectPrefix);
    const own = (kind: ReportKind) => subjA.report(attacker.id, kind);
    const out: Hostile[] = [];
    const add = (n: number, make: (i: number) => Promise<Hostile> | Hostile) => Promise.all(Array.from({ length: n }, (_, i) => make(i))).then((xs) => void out.push(...xs));
    const signed = async (over: Partial<TReportV1>, kind: ReportKind = "heartbeat") => signedReport(attacker, kind, over);
    const forger = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
    const forgerKey = await importJWK({ ...forger, alg: "EdDSA" }, "EdDSA");

    // garbage: random bytes (never UTF-8: 0xff first), a broken JWS, a JWS with empty parts
    const garbage = (i: number) => (i % 3 === 0 ? Buffer.concat([Buffer.from([0xff]), randomBytes(i % 900)]) : encoder.encode(i % 3 === 1 ? `not.a-jws.${"x".repeat(i % 50)}!` : "eyJhbGciOiJFZERTQSJ9..."));
    await add(1600, (i) => ({ conn: "attacker", subject: own("heartbeat"), data: garbage(i), expect: "malformed" }));
    // JSON where a JWS belongs
    await add(800, async () => {
      const { report } = await signed({});
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(JSON.stringify(report)), expect: "unsigned", msgId: report.msgId };
    });
    // a header that is not ours (alg none, wrong typ, no kid)
    await add(400, async (i) => {
      const { report } = await signed({});
      const header = [{ alg: "none", typ: REPORT_JWS_TYP, kid: attacker.id }, { alg: "EdDSA", typ: "JWT", kid: attacker.id }, { alg: "EdDSA", typ: REPORT_JWS_TYP }][i % 3];
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(`${b64(JSON.stringify(header))}.${b64(JSON.stringify(report))}.${b64("sig")}`), expect: "malformed", msgId: report.msgId };
    });
    // mutated signature (one character of the signature changed)
    await add(1200, async (i) => {
      const { report, jws } = await signed({});
      const at = jws.length - 2 - (i % 40);
      const c = jws[at] === "A" ? "B" : "A";
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws.slice(0, at) + c + jws.slice(at + 1)), expect: "bad_signature", msgId: report.msgId };
    });
    // mutated payload under the original signature (a report altered in transit)
    await add(1000, async () => {
      const { report, jws } = await signed({});
      const [h, , s] = jws.split(".");
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(`${h}.${b64(JSON.stringify({ ...report, body: { ...report.body, rssBytes: 1 } }))}.${s}`), expect: "bad_signature", msgId: report.msgId };
    });
    // forged: the victim's id, signed with a key that is not the victim's, on the victim's subject
    await add(800, async () => {
      const report = { v: 1, kind: "heartbeat", deviceId: victim.id, msgId: randomUUID(), seq: 0, sentAt: new Date().toISOString(), body: reportBody("heartbeat", victim.hostname, 0) } as TReportV1;
      const jws = await new CompactSign(encoder.encode(JSON.stringify(report))).setProtectedHeader({ alg: "EdDSA", kid: victim.id, typ: REPORT_JWS_TYP }).sign(forgerKey);
      return { conn: "rogue", subject: subjects(victim.subjectPrefix).report(victim.id, "heartbeat"), data: encoder.encode(jws), expect: "bad_signature", msgId: report.msgId };
    });
    // cross-device: the attacker's valid signature over a report naming the victim, on its own subject...
    await add(600, async () => {
      const { report, jws } = await signed({ deviceId: victim.id });
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws), expect: "device_mismatch", msgId: report.msgId };
    });
    // ...and its own signed report pushed onto the victim's subject
    await add(600, async () => {
      const { report, jws } = await signed({});
      return { conn: "rogue", subject: subjects(victim.subjectPrefix).report(victim.id, "heartbeat"), data: encoder.encode(jws), expect: "device_mismatch", msgId: report.msgId };
    });
    // devices that do not exist
    await add(700, async (i) => {
      const ghost = `dev_ghost${String(i).padStart(8, "0")}`;
      const report = { v: 1, kind: "heartbeat", deviceId: ghost, msgId: randomUUID(), seq: 0, sentAt: new Date().toISOString(), body: reportBody("heartbeat", "ghost", 0) } as TReportV1;
      const jws = await new CompactSign(encoder.encode(JSON.stringify(report))).setProtectedHeader({ alg: "EdDSA", kid: ghost, typ: REPORT_JWS_TYP }).sign(forgerKey);
      return { conn: "rogue", subject: subjects(attacker.subjectPrefix).report(ghost, "heartbeat"), data: encoder.encode(jws), expect: "unknown_device", msgId: report.msgId };
    });
    // wrong schema versions and bodies, validly signed
    await add(800, async (i) => {
      const over = [{ v: 2 }, { v: 0 }, { body: { agentVersion: 7 } }, { seq: -1 }][i % 4] as Partial<TReportV1>;
      const { report, jws } = await signed(over);
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws), expect: "schema_invalid", msgId: report.msgId };
    });
    // a heartbeat on the inventory subject
    await add(300, async () => {
      const { report, jws } = await signed({});
      return { conn: "attacker", subject: own("inventory"), data: encoder.encode(jws), expect: "subject_mismatch", msgId: report.msgId };
    });
    // replayed: older than REPORT_MAX_AGE_DAYS; and stamped an hour in the future
    await add(300, async () => {
      const { report, jws } = await signed({ sentAt: new Date(Date.now() - 40 * 86_400_000).toISOString() });
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws), expect: "replayed", msgId: report.msgId };
    });
    await add(300, async () => {
      const { report, jws } = await signed({ sentAt: new Date(Date.now() + 3_600_000).toISOString() });
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws), expect: "clock_skew", msgId: report.msgId };
    });
    // oversized: beyond the server's 512 KiB, within the stream's 1 MiB (they once stalled the consumer's byte-bounded
    // pulls for the whole fleet: report.consumer.ts PULL_MESSAGES)
    await add(20, async (i) => {
      const { report, jws } = await signed({});
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws + " ".repeat((520 + i * 20) * 1024)), expect: "oversized", msgId: report.msgId };
    });
    // replayed ids: real reports published again byte for byte (no Nats-Msg-Id, so JetStream's duplicate window does
    // not catch them), and the attacker's own new reports reusing a real report's msgId
    await add(580, async (i) => {
      const r = replayable[i % replayable.length]!;
      if (i % 2 === 0) return { conn: "rogue", subject: subjects(attacker.subjectPrefix).report(r.deviceId, "heartbeat"), data: encoder.encode(r.jws), expect: "duplicate" };
      const { jws } = await signed({ msgId: r.msgId });
      return { conn: "attacker", subject: own("heartbeat"), data: encoder.encode(jws), expect: "duplicate" };
    });
    return out;
  }

  it("stores every real report and none of 10,000 hostile ones; counted, healthy, memory bounded", async () => {
    const victim = real[0]!;
    const rssBefore = srv.rssBytes();
    // Real reports first in part, so there are real msgIds to replay
    const load = new ReportLoad(real, { reportsPerDevice: REAL_REPORTS_PER_DEVICE, intervalMs: 40 });
    const realIds = real.map((d) => d.id);
    await waitFor(async () => (await db.prisma.processedMessage.count({ where: { deviceId: { in: realIds } } })) >= 60, "some real reports stored", 60_000);
    // real reports to replay: one fresh heartbeat from each of 5 devices, published once by its device and stored
    const replayable: { deviceId: string; jws: string; msgId: string }[] = [];
    for (const d of real.slice(0, 5)) {
      const { report, jws } = await signedReport(d, "heartbeat");
      await d.js.publish(subjects(d.subjectPrefix).report(d.id, "heartbeat"), encoder.encode(jws), { msgID: report.msgId });
      replayable.push({ deviceId: d.id, jws, msgId: report.msgId });
    }
    await waitFor(async () => (await db.prisma.processedMessage.count({ where: { msgId: { in: replayable.map((r) => r.msgId) } } })) === replayable.length, "the originals stored", 60_000);

    const hostile = await corpus(victim, replayable);
    expect(hostile.length).toBe(10_000);

    // health and RSS sampled while the hostile traffic flows
    const rss: number[] = [];
    const health: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          rss.push(srv.rssBytes());
        } catch {
          break; // the process is gone: /health below will say so
        }
        const res = await fetch(`${srv.url}/health`).catch(() => null);
        health.push(res?.status ?? 0);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const t0 = Date.now();
    // published through JetStream, 200 in flight, every one acked (in the stream)
    const conns = { attacker: attacker.js, rogue: rogue.jetstream() };
    let next = 0;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < hostile.length) {
          const h = hostile[next++]!;
          await conns[h.conn].publish(h.subject, h.data, { timeout: 30_000 });
        }
      }),
    );
    await load.done;

    const expected: Record<string, number> = {};
    for (const h of hostile) expected[h.expect] = (expected[h.expect] ?? 0) + 1;
    const reasons = Object.keys(expected).filter((r) => r !== "duplicate");
    const rejected = hostile.length - expected.duplicate!;
    const counted = (m: string) => reasons.reduce((sum, r) => sum + metricValue(m, "fleet_reports_rejected_total", { reason: r }), 0);
    const settled = await waitFor(async () => {
      const m = await (await fetch(`${srv.url}/metrics`)).text();
      return counted(m) >= rejected && metricValue(m, "fleet_reports_duplicate_total") >= expected.duplicate! ? m : null;
    }, "every hostile message settled", 90_000).catch((err: Error) => err);
    sampling = false;
    await sampler;
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    console.log(`[fault hostile] after ${Math.round((Date.now() - t0) / 1000)} s: ${counted(metrics)} of ${rejected} rejections counted, ${metricValue(metrics, "fleet_reports_duplicate_total")} duplicates`);
    for (const reason of reasons) expect([reason, metricValue(metrics, "fleet_reports_rejected_total", { reason })]).toEqual([reason, expected[reason]]);
    expect(metricValue(metrics, "fleet_reports_duplicate_total")).toBe(expected.duplicate);
    expect(settled).toBeTypeOf("string");

    // every real report stored once
    const intended = new Map(load.intended);
    for (const r of replayable.slice(0, 5)) intended.set(r.msgId, "heartbeat");
    await expectEveryReportStoredOnce(db.url, intended, realIds, { what: "every real report stored" });
    // nothing hostile stored: no row for the attacker or a ghost, none of the hostile msgIds anywhere
    expect(await db.prisma.processedMessage.count({ where: { deviceId: attacker.id } })).toBe(0);
    expect(await db.prisma.processedMessage.count({ where: { deviceId: { startsWith: "dev_ghost" } } })).toBe(0);
    const hostileIds = hostile.flatMap((h) => (h.msgId ? [h.msgId] : []));
    expect(await db.prisma.processedMessage.count({ where: { msgId: { in: hostileIds } } })).toBe(0);
    expect(await db.prisma.heartbeat.count({ where: { deviceId: attacker.id } })).toBe(0);

    // /health answered every probe; on a loaded CI machine its 2 s database probe may time out now and then (503
    // "timeout"), so most, not all, must be 200
    expect(health.filter((st) => st !== 200 && st !== 503)).toEqual([]);
    expect(health.filter((st) => st === 200).length).toBeGreaterThanOrEqual(Math.floor(health.length * 0.9));
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    const maxRss = Math.max(...rss);
    console.log(`[fault hostile] ${hostile.length} hostile (${JSON.stringify(expected)}), ${load.total} real; /health ${health.filter((st) => st === 200).length}/${health.length} ok; server RSS ${Math.round(rssBefore / MB)} MB before, max ${Math.round(maxRss / MB)} MB over ${rss.length} samples`);
    // bounded: the consumer pulls at most 8 MiB ahead and batches at most 4 MiB; 10,000 messages must not pile up in memory
    expect(maxRss).toBeLessThan(rssBefore + 250 * MB);
  }, 240_000);
});
