// bench/fleet-sim: a simulated fleet against the real server (its own process, production config), real
// nats-server (JetStream) and PostgreSQL, all on 127.0.0.1. Per fleet size (BENCH_SIZES, default
// "1000,10000,50000"), on a fresh database, NATS and server (BENCH_SIM_REPLICAS, default 1: that many server
// processes on the same NATS and database, sharing the durable consumer as production replicas do; the server CPU
// reported is theirs together):
// - N devices are seeded in bulk into the database (one Ed25519 key pair each, derived from a run seed in the signing
//   threads, bench/lib/sim/keys.mjs; Device rows as enrollment writes them; not enrolled over REST, which would take
//   longer than the measurement at 50,000), as a fleet that has been reporting: each last seen within a heartbeat
//   interval, kept so until the window opens (bench/lib/sim/seed.mjs keepFleetOnline), so the window measures sustained
//   ingest. BENCH_SIM_COLD_START=1 seeds a fleet never seen: the window then includes every device coming online;
// - every device sends the reports an agent sends, on the agent's intervals (heartbeat 30 s, metrics 60 s, models
//   and posture 300 s, inventory 3600 s; bench/lib/sim/schedule.mjs), each at its own random phase (steady state),
//   with a spread of hardware in its inventory (RAM 8-128 GB; no GPU, integrated, or 4-24 GB VRAM; Windows, Linux,
//   macOS; bench/lib/sim/fleet.mjs); metrics only from the BENCH_SIM_ACTIVE_SHARE (0.25) of devices serving local
//   inference (the agent sends none for an idle window); inventory, models and posture only in the
//   BENCH_SIM_CHANGE_SHARE (0.05) of their intervals in which they changed (the agent's sendIfChanged; 1 = every
//   interval, the worst case). Each report is signed with the device's own key (signReport, the agent's exact JWS)
//   and published over JetStream with its msgId; many devices share one of BENCH_SIM_CONNECTIONS NATS connections,
//   and NATS runs WITHOUT per-device auth here (one connection cannot hold 50,000 device identities);
// - PRE-SIGNED: signing is each device's own CPU work, but here it would take as much of the 2 shared cores as the
//   server's verification. So the whole window is planned first and every report signed BEFORE the window opens, on
//   BENCH_SIM_SIGN_THREADS (2) worker threads (each holding its devices' imported keys), with sentAt = its planned due
//   time; the window opens after the estimated signing time (rate measured on a first chunk) x 1.5 + 5 s. Reports
//   due before they were signed are counted (`signedLate`); pre-signed memory is printed and bounded
//   (BENCH_SIM_MAX_PRESIGNED_MB). The main thread publishes each report when due;
// - rollouts (bench/lib/sim/rollout.mjs): BENCH_SIM_ROLLOUT_SHARE (0.2) of the devices are targeted; a tenth into the
//   window an admin creates a 3-ring rollout (1 % / 10 % / 100 %, 2 s soaks, gates loose enough for the failure
//   rate) over the REST API; each targeted device watches its key of the FLEET_ASSIGNMENTS bucket, verifies the
//   assignment (openAssignment), downloads a BENCH_SIM_ARTIFACT_MB (40) artifact at its own bandwidth (2-100 MB/s),
//   self-tests for 0.5-3 s and fails with probability BENCH_SIM_FAILURE_RATE (0.02), sending the agent's "update"
//   reports (pending, downloading every 10 s, verifying, testing, active / failed self_test_failed), signed live.
//   The run waits for the rollout's end (at most BENCH_SIM_ROLLOUT_WAIT_SECONDS, 240, after the window: the server
//   sends a ring its model in waves of ROLLOUT_ASSIGN_PER_SEC, 100 devices a second, so 9,000 devices take 90 s);
// - time runs BENCH_TIME_COMPRESSION (default 1: the real intervals) times faster than the wall clock, for
//   BENCH_SIM_SECONDS (60) of wall time or BENCH_SIM_MAX_REPORTS (400,000) reports, whichever comes first; then the
//   backlog is given up to BENCH_SIM_DRAIN_SECONDS (120) to be stored (the rates stop there), and up to
//   BENCH_SIM_SETTLE_SECONDS (300) more before lost/duplicated are counted (late is not lost).
// Measured: reportsPerSec (every stored report / time from the window's opening until the last acked one is stored),
// lag (publish-to-stored: one report in BENCH_SIM_LAG_SAMPLE is polled in ProcessedMessage every
// BENCH_SIM_LAG_POLL_MS, 100 (250 until 2026-11-29), so an upper bound by up to one poll; sentAt is the planned due time, so a simulator publishing late shows as lag; lagReceived
// is sentAt to the row's receivedAt for every report), lost and duplicated from the database against what JetStream
// acked (update reports included), the server's CPU (% of one core over that time) and max RSS; per size a
// `rollout` object (assigned, active, failed, state, time to active p50/p95 from the admin's POST).
// Last line: `BENCH fleet-sim {"sizes":[...]}`.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { subjects } from "@fleet/protocol";
import { account } from "./lib/sim/accounting.mjs";
import { rng, servesInference } from "./lib/sim/fleet.mjs";
import { INTERVALS_SEC, forEachDue, makeSchedule, reportsPerSimSecond } from "./lib/sim/schedule.mjs";
import { deviceId, keepFleetOnline, seedFleet } from "./lib/sim/seed.mjs";
import { prepareRollout, ROLLOUT_GROUP, rolloutDevices } from "./lib/sim/rollout.mjs";
import { startSigners } from "./lib/sim/signers.mjs";
import { emulateAutovacuum } from "./lib/autovacuum.mjs";
import { samplePgActivity, topActivity } from "./lib/pgActivity.mjs";
import { waitForCommandConsumers } from "./lib/commandConsumers.mjs";
import { describeLoad, machineLoad } from "./lib/machineLoad.mjs";
import { cpuProfileTop } from "./lib/cpuProfileTop.mjs";
import { percentile } from "./lib/percentile.mjs";
import { procStats } from "./lib/procStats.mjs";
import { cpuBetween, serviceCpu } from "./lib/serviceCpu.mjs";
import { round } from "./lib/stats.mjs";

// The simulator's NATS runs without auth: set before bench/lib/benchServices.mjs loads the test helpers.
process.env.FLEET_TEST_NATS_AUTH = "none";
const { ADMIN_TOKEN, importFromServer, startInfra, startServerChild } = await import("./lib/benchServices.mjs");
const { connect } = await importFromServer("nats");

const num = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(process.env[name])}`);
  return v;
};
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,50000").split(",").map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1 || n > 200_000) throw new Error(`BENCH_SIZES: ${JSON.stringify(s)} is not a fleet size in 1..200000`);
  return n;
});
const WINDOW_SEC = num("BENCH_SIM_SECONDS", 60);
const COMPRESSION = num("BENCH_TIME_COMPRESSION", 1);
const MAX_REPORTS = num("BENCH_SIM_MAX_REPORTS", 400_000);
const DRAIN_SEC = num("BENCH_SIM_DRAIN_SECONDS", 120);
const SETTLE_SEC = num("BENCH_SIM_SETTLE_SECONDS", 300);
const CONNECTIONS = num("BENCH_SIM_CONNECTIONS", 4);
const LAG_SAMPLE = num("BENCH_SIM_LAG_SAMPLE", 10);
/** server processes on the same NATS and PostgreSQL, as replicas run in production (one shared durable consumer) */
const REPLICAS = num("BENCH_SIM_REPLICAS", 1);
if (!Number.isInteger(REPLICAS) || REPLICAS > 4) throw new Error(`BENCH_SIM_REPLICAS must be an integer 1..4, got ${REPLICAS}`);
/** how often the sampled reports are looked for in ProcessedMessage: the lag is an upper bound by up to this much */
const LAG_POLL_MS = num("BENCH_SIM_LAG_POLL_MS", 100);
/**
 * when set, pg_stat_activity is sampled this often (ms) through the window and drain; the seconds with the slowest
 * batch commits are printed with what the database's backends were doing (bench/lib/pgActivity.mjs), and every
 * second's account is kept in a file next to the server log
 */
const PG_ACTIVITY_MS = process.env.BENCH_SIM_PG_ACTIVITY_MS ? num("BENCH_SIM_PG_ACTIVITY_MS", 50) : null;
/**
 * seconds a size's services (database, nats-server, keys, seed, server) get to come up before the attempt is stopped
 * and tried once more: 120 + 6 per 1,000 devices. The hang once seen here (the process asleep in a futex while making
 * keys) was generateKeyPairSync stalling after ~10,000 keys; keys are now derived from a seed (bench/lib/sim/keys.mjs).
 */
const startupSec = (n) => Number(process.env.BENCH_SIM_STARTUP_SECONDS ?? 120 + (6 * n) / 1000);
const ACTIVE_SHARE = Math.min(1, num("BENCH_SIM_ACTIVE_SHARE", 0.25));
/** a directory: the server's CPU profile of each size's window (publish and drain) is written there */
const CPU_PROF = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null;
/** publishes awaiting their PubAck, at most (the simulator's own memory bound) */
const MAX_INFLIGHT = 4000;
const MB = 2 ** 20;
const progress = (msg) => console.log(`[fleet-sim] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** signing threads: the devices' own CPUs, used before the window (2 on this 2-core machine) */
const SIGN_THREADS = num("BENCH_SIM_SIGN_THREADS", 2);
const SIGN_CHUNK = 2000;
const MAX_PRESIGNED_MB = num("BENCH_SIM_MAX_PRESIGNED_MB", 2000);
/** share of a snapshot kind's (inventory, models, posture) intervals in which a device's snapshot changed and is sent; 1 = every interval (worst case) */
const CHANGE_SHARE = Math.min(1, num("BENCH_SIM_CHANGE_SHARE", 0.05));
const SNAPSHOT_KINDS = new Set(["inventory", "models", "posture"]);
const ROLLOUT_SHARE = Math.min(1, Number(process.env.BENCH_SIM_ROLLOUT_SHARE ?? 0.2));
const FAILURE_RATE = Math.min(1, Number(process.env.BENCH_SIM_FAILURE_RATE ?? 0.02));
const ARTIFACT_MB = num("BENCH_SIM_ARTIFACT_MB", 40);
/** when in the window (share of it) the rollout is created */
const ROLLOUT_AT = 0.1;
const ROLLOUT_WAIT_SEC = num("BENCH_SIM_ROLLOUT_WAIT_SECONDS", 240);
/** BENCH_SIM_COLD_START=1: the fleet was never seen and comes online in the window (every device's first report moves it online) */
const COLD_START = process.env.BENCH_SIM_COLD_START === "1";
/** a reporting fleet's lastSeenAt is refreshed this often until the window opens (well within OFFLINE_AFTER_SEC, 90 s) */
const KEEP_ONLINE_EVERY_SEC = 20;
const BUCKET = "FLEET_ASSIGNMENTS";
const KINDS = ["heartbeat", "metrics", "models", "posture", "inventory"];
if (!(ROLLOUT_SHARE >= 0 && FAILURE_RATE >= 0)) throw new Error("BENCH_SIM_ROLLOUT_SHARE and BENCH_SIM_FAILURE_RATE must be numbers in 0..1");

/**
 * Every report due in the window, in due order: a flat Float64Array of [device, kind index, seq, due ms after the
 * window opens]. Due times are taken on a 20 ms grid of wall time (the cadence the live loop used to have).
 * Snapshot kinds are sent in CHANGE_SHARE of their intervals (a seeded draw per device, kind and interval).
 */
function planWindow(n, schedule, active) {
  const out = [];
  const byKind = {};
  const seqs = new Uint32Array(n);
  let simPrev = 0;
  for (let w = 20; w <= WINDOW_SEC * 1000 && out.length / 4 < MAX_REPORTS; w += 20) {
    const simNow = (w / 1000) * COMPRESSION;
    forEachDue(schedule, simPrev, simNow, (i, kind) => {
      if (kind === "metrics" && !active[i]) return;
      if (SNAPSHOT_KINDS.has(kind) && CHANGE_SHARE < 1 && rng(i * 2654435761 + KINDS.indexOf(kind) * 40503 + Math.floor(simNow / INTERVALS_SEC[kind]) * 69069)() >= CHANGE_SHARE) return;
      if (out.length / 4 >= MAX_REPORTS) return;
      out.push(i, KINDS.indexOf(kind), seqs[i]++, w);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    });
    simPrev = simNow;
  }
  return Object.assign(Float64Array.from(out), { byKind });
}

/** The signing request for plan items gs (indices), due relative to wall0. */
function itemsOf(plan, gs, wall0) {
  const items = new Float64Array(gs.length * 4);
  gs.forEach((g, k) => {
    items[4 * k] = plan[4 * g];
    items[4 * k + 1] = plan[4 * g + 1];
    items[4 * k + 2] = plan[4 * g + 2];
    items[4 * k + 3] = wall0 + plan[4 * g + 3];
  });
  return items;
}

function machine() {
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(), ramGB: round(os.totalmem() / 2 ** 30, 1), loadavg: os.loadavg().map((x) => round(x, 2)) };
}

/** The log file of replica r (1-based) in the run's directory. */
const serverLogName = (r) => (r === 1 ? "server.log" : `server-${r}.log`);

/** CPU time of the server processes so far (ms), all replicas together. */
const serversCpuMs = (servers) => servers.reduce((sum, x) => sum + procStats(x.pid).cpuMs, 0);

/**
 * The database's account of each second (pg_stat_activity samples) beside the server's batches of that second (count,
 * commit p50): every second written to a kept file, the five seconds with the slowest commits printed.
 */
function reportActivity(n, bySecond, batches, ringStarts, epoch0, stamp, samples) {
  // the second of the window a server log line falls in (pino writes ISO times here)
  const secondOf = (line) => Math.floor((Date.parse(line.time) - epoch0) / 1000);
  const marked = new Map();
  for (const m of ringStarts) {
    const sec = secondOf(m);
    marked.set(sec, [...(marked.get(sec) ?? []), `${m.msg} (ring ${m.ring}, ${m.firstWave} sent)`]);
  }
  const perSecond = new Map();
  for (const b of batches) {
    const sec = secondOf(b);
    const x = perSecond.get(sec) ?? { reports: 0, commits: [] };
    x.reports += b.batch;
    x.commits.push(b.commitMs);
    perSecond.set(sec, x);
  }
  const seconds = [...new Set([...bySecond.keys(), ...perSecond.keys()])].filter((s) => s >= 0).sort((a, b) => a - b);
  const rows = seconds.map((t) => {
    const b = perSecond.get(t);
    return { t, batches: b?.commits.length ?? 0, reports: b?.reports ?? 0, commitP50Ms: b ? percentile(b.commits, 50) : null, ...(marked.has(t) ? { server: marked.get(t) } : {}), top: topActivity(bySecond.get(t), 8) };
  });
  const file = path.join(os.tmpdir(), `fleet-sim-${n}-pg-activity-${stamp}.jsonl`);
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const worst = rows.filter((r) => r.batches >= 3).sort((a, b) => b.commitP50Ms - a.commitP50Ms).slice(0, 5);
  progress(`${n} devices: pg_stat_activity sampled ${samples} times (every ${PG_ACTIVITY_MS} ms), per second in ${file}; the slowest commits:`);
  for (const r of worst) {
    progress(`  t=${r.t} s: ${r.batches} batches, ${r.reports} reports, commit p50 ${r.commitP50Ms} ms${r.server ? `; server: ${r.server.join(", ")}` : ""}`);
    for (const line of r.top) progress(`    ${line}`);
  }
  return { samples, everyMs: PG_ACTIVITY_MS, file, slowestSeconds: worst.map((r) => ({ t: r.t, commitP50Ms: r.commitP50Ms, batches: r.batches })) };
}

/** The server's count of online devices (fleet_devices_online on its public /metrics). */
async function devicesOnline(serverUrl) {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const m = /^fleet_devices_online (\d+)/m.exec(text);
  if (!m) throw new Error("fleet_devices_online is not in the server's /metrics");
  return Number(m[1]);
}

async function runSize(n) {
  const ti = performance.now();
  progress(`${n} devices: starting a database (template clone) and nats-server`);
  const infra = await startInfra(`fleet-sim-${n}`);
  progress(`${n} devices: database and nats-server up in ${round((performance.now() - ti) / 1000, 1)} s`);
  let server = null;
  /** every replica; `server` (the first) also answers the benchmark's REST calls */
  const servers = [];
  let stopKeepingOnline = null;
  let autovacuum = null;
  const conns = [];
  const db = new pg.Client({ connectionString: infra.db.url });
  const signers = startSigners(SIGN_THREADS);
  try {
    let t = performance.now();
    // keys: derived and imported in the signing threads (each private key imported once, where it signs)
    let lastKeyProgress = performance.now();
    const xs = await signers.keys(n, (done) => {
      if (performance.now() - lastKeyProgress < 5000 && done < n) return;
      lastKeyProgress = performance.now();
      progress(`${n} devices: ${done} keys derived and imported (${round((performance.now() - t) / 1000, 1)} s)`);
    });
    progress(`${n} devices: keys in ${round((performance.now() - t) / 1000, 1)} s on ${SIGN_THREADS} threads`);
    t = performance.now();
    await seedFleet(infra.db.url, xs.map((x) => ({ publicJwk: { kty: "OKP", crv: "Ed25519", x } })), (done) => progress(`  seeded ${done} of ${n}`), COLD_START ? null : INTERVALS_SEC.heartbeat);
    progress(`${n} devices: seeded in bulk in ${round((performance.now() - t) / 1000, 1)} s${COLD_START ? "; never seen (cold start: the fleet comes online in the window)" : "; reporting (last seen within a heartbeat interval)"}`);
    await db.connect();
    stopKeepingOnline = COLD_START ? null : keepFleetOnline(db, KEEP_ONLINE_EVERY_SEC, (err) => progress(`  keeping the fleet online failed: ${err.message}`));
    autovacuum = await emulateAutovacuum(infra.db.url, (err) => progress(`  autovacuum stand-in failed: ${err.message}`));
    if (autovacuum.enabled) progress(`${n} devices: PostgreSQL runs with autovacuum off here; the benchmark stands in for it (every ${autovacuum.naptimeSec} s, its thresholds; bench/lib/autovacuum.mjs)`);
    const ro = ROLLOUT_SHARE > 0 ? await prepareRollout(infra.db.prisma, db, n, ROLLOUT_SHARE, ARTIFACT_MB * MB, deviceId) : null;
    if (ro) progress(`${n} devices: ${ro.targeted.length} targeted by the rollout (catalog entry, compatibility rows, group label)`);
    for (let r = 1; r <= REPLICAS; r++) servers.push(await startServerChild(infra.env({ LOG_LEVEL: "info" }), path.join(infra.dir, serverLogName(r))));
    server = servers[0];
    for (let c = 0; c < CONNECTIONS; c++) conns.push(await connect({ servers: infra.nats.url, name: `fleet-sim-${c}` }));
    const jss = conns.map((nc) => nc.jetstream());
    // before the window's reports are signed with their due times (bench/lib/commandConsumers.mjs)
    const consumerSec = await waitForCommandConsumers(infra.nats, n, { progress: (m) => progress(`  ${m}`), timeoutSec: startupSec(n) });
    progress(`${n} devices: command consumers created by the server's start-up check in ${round(consumerSec, 1)} s`);
    const subj = subjects(process.env.FLEET_SUBJECT_PREFIX ?? undefined);
    const schedule = makeSchedule(n);
    const active = Uint8Array.from({ length: n }, (_, i) => (servesInference(i, ACTIVE_SHARE) ? 1 : 0));
    const expectedPerSec = (reportsPerSimSecond(n) - (n * (1 - ACTIVE_SHARE)) / INTERVALS_SEC.metrics - ((1 - CHANGE_SHARE) * n * (1 / 300 + 1 / 300 + 1 / 3600))) * COMPRESSION;
    progress(`server pid ${servers.map((x) => x.pid).join(", ")}; ${CONNECTIONS} NATS connections; simulating ${WINDOW_SEC} s at ×${COMPRESSION} (≈${round(expectedPerSec, 0)} reports/s offered)`);

    // --- the plan: every report due in the window (device, kind, seq, due offset), in due order ---
    const plan = planWindow(n, schedule, active);
    const total = plan.length / 4;
    progress(`${n} devices: ${total} reports planned for the window (${JSON.stringify(plan.byKind)})`);

    // --- pre-signing: the devices' own CPU work, done before the window on SIGN_THREADS threads ---
    const byThread = Array.from({ length: SIGN_THREADS }, () => []);
    for (let g = 0; g < total; g++) byThread[plan[4 * g] % SIGN_THREADS].push(g);
    // the rate, measured on a first chunk of thread 0 (discarded: its sentAt is not yet known)
    const calib = byThread[0].slice(0, Math.min(1000, byThread[0].length));
    let tc = performance.now();
    await signers.sign(0, itemsOf(plan, calib, Date.now()), KINDS, Date.now());
    const perSec = (calib.length / Math.max(1, performance.now() - tc)) * 1000 * SIGN_THREADS * 0.8; // threads share 2 cores with the rest
    const estSec = total / Math.max(1, perSec);
    // x 1.5 + 5 s: measured alone on one thread, the rate overstates two threads on a contended machine (10,000: 3.2 s estimated, 6 s taken)
    const wall0 = Date.now() + Math.ceil(estSec * 1.5 * 1000) + 5000;
    progress(`${n} devices: signing ${total} reports at ≈${round(perSec, 0)}/s (${SIGN_THREADS} threads, measured on ${calib.length}): ≈${round(estSec, 1)} s; window opens in ${round((wall0 - Date.now()) / 1000, 1)} s`);
    const chunkOf = new Int32Array(total);
    const idxOf = new Int32Array(total);
    const chunks = [];
    let presignedBytes = 0;
    tc = performance.now();
    let signedCount = 0;
    let lastSignProgress = performance.now();
    await Promise.all(
      byThread.map(async (gs, th) => {
        for (let from = 0; from < gs.length; from += SIGN_CHUNK) {
          const part = gs.slice(from, from + SIGN_CHUNK);
          const res = await signers.sign(th, itemsOf(plan, part, wall0), KINDS, wall0);
          const c = chunks.push({ buf: res.buf, ends: res.ends, msgIds: res.msgIds }) - 1;
          part.forEach((g, k) => {
            chunkOf[g] = c;
            idxOf[g] = k;
          });
          presignedBytes += res.buf.byteLength + res.ends.byteLength + res.msgIds.length * 90;
          if (presignedBytes > MAX_PRESIGNED_MB * MB) throw new Error(`pre-signed reports over BENCH_SIM_MAX_PRESIGNED_MB (${MAX_PRESIGNED_MB} MB): lower BENCH_SIM_MAX_REPORTS or BENCH_SIM_SECONDS`);
          signedCount += part.length;
          if (performance.now() - lastSignProgress > 5000) {
            lastSignProgress = performance.now();
            progress(`  signed ${signedCount} of ${total} (${round(presignedBytes / MB, 1)} MB)`);
          }
        }
      }),
    );
    const signedAt = Date.now();
    const signSec = (performance.now() - tc) / 1000;
    let signedLate = 0;
    for (let g = 0; g < total; g++) if (wall0 + plan[4 * g + 3] < signedAt) signedLate++;
    progress(`${n} devices: ${total} reports signed in ${round(signSec, 1)} s (${round(total / signSec, 0)}/s), ${round(presignedBytes / MB, 1)} MB pre-signed` +
      (signedLate ? `; LATE: signing ended ${round((signedAt - wall0) / 1000, 1)} s after the window opened, ${signedLate} reports were due before they were signed` : ""));

    // the fresh server's start-up work (e.g. over the seeded devices) settles before the window opens (at most 20 s)
    for (let k = 0; k < 20 && Date.now() < wall0 - 1000; k++) {
      const a = serversCpuMs(servers);
      await sleep(1000);
      if (serversCpuMs(servers) - a < 150 * servers.length) break;
    }
    await stopKeepingOnline?.();
    const onlineAtWindow = await devicesOnline(server.url);
    progress(`${n} devices: ${onlineAtWindow} online as the window opens (the server's fleet_devices_online)`);
    const loadBefore = await machineLoad();
    progress(`machine before: ${describeLoad(loadBefore)}`);
    const acked = new Set();
    const uncertain = new Set(); // publishes whose PubAck never came: maybe stored, so neither lost nor foreign
    const pendingLag = new Map(); // sampled msgId -> sentAt epoch ms
    const lag = [];
    const lagPlanned = []; // the planned reports' lag alone (update reports come in bursts as rings open)
    const behind = []; // ms from when a report was due to when it was published (the simulator falling behind)
    const rss = [];
    let published = 0;
    let inflight = 0;
    let publishErrors = 0;
    let firstError = null;
    let head = 0;

    async function publish(i, kind, bytes, msgId, sentAtMs) {
      const id = deviceId(i);
      inflight++;
      try {
        await jss[i % CONNECTIONS].publish(subj.report(id, kind), bytes, { msgID: msgId, timeout: 30_000 });
        acked.add(msgId);
        if (published % LAG_SAMPLE === 0) pendingLag.set(msgId, kind === "update" ? -sentAtMs : sentAtMs);
      } catch (err) {
        publishErrors++;
        firstError ??= err.message;
        uncertain.add(msgId);
      } finally {
        inflight--;
      }
      published++;
    }
    function publishPlanned(g) {
      const c = chunks[chunkOf[g]];
      const k = idxOf[g];
      const bytes = c.buf.subarray(k === 0 ? 0 : c.ends[k - 1], c.ends[k]);
      const due = wall0 + plan[4 * g + 3];
      behind.push(Date.now() - due);
      void publish(plan[4 * g], KINDS[plan[4 * g + 1]], bytes, c.msgIds[k], due);
    }

    // --- rollout participants: the targeted devices watch their assignment keys ---
    let rollout = null;
    if (ro) {
      const serverJwk = JSON.parse(fs.readFileSync(path.join(infra.dir, "server-key.json"), "utf8"));
      rollout = rolloutDevices({ seed: signers.seed, serverJwk, failureRate: FAILURE_RATE, deviceId, publish, onError: (err) => (firstError ??= `rollout: ${err.message}`) });
      for (const i of ro.targeted) {
        conns[i % CONNECTIONS].subscribe(`$KV.${BUCKET}.${deviceId(i)}`, { callback: (err, msg) => (!err && msg.data.length ? void rollout.onAssignment(i, msg.data) : undefined) });
      }
      await Promise.all(conns.map((c) => c.flush()));
    }

    let stored = 0;
    let polling = true;
    let lastCount = 0;
    let longestStallMs = 0;
    async function poll() {
      try {
        await pollLoop();
      } catch (err) {
        // the run failed elsewhere and closed the database client: that failure is the one to report, not this one
        if (polling) progress(`  polling stopped: ${err.message}`);
      }
    }
    async function pollLoop() {
      let lastProgress = performance.now();
      let lastStored = 0;
      let stalledSince = null;
      while (polling) {
        await sleep(LAG_POLL_MS);
        // stalls: acked reports waiting while the stored count does not move (counted once a second: a count of
        // ProcessedMessage reads the table)
        if (performance.now() - lastCount >= 1000) {
          lastCount = performance.now();
          stored = (await db.query(`SELECT count(*)::int AS n FROM "ProcessedMessage"`)).rows[0].n;
          const now = performance.now();
          if (stored > lastStored || stored >= acked.size) stalledSince = null;
          else stalledSince ??= now;
          if (stalledSince !== null) longestStallMs = Math.max(longestStallMs, now - stalledSince);
          lastStored = stored;
        }
        const ids = [...pendingLag.keys()].slice(0, 5000);
        if (ids.length) {
          const { rows } = await db.query(`SELECT "msgId" FROM "ProcessedMessage" WHERE "msgId" = ANY($1)`, [ids]);
          const now = Date.now();
          for (const r of rows) {
            const at = pendingLag.get(r.msgId); // negative: an update report
            lag.push(now - Math.abs(at));
            if (at > 0) lagPlanned.push(now - at);
            pendingLag.delete(r.msgId);
          }
        }
        rss.push(Math.max(...servers.map((x) => procStats(x.pid).rssBytes / MB)));
        if (performance.now() - lastProgress > 5000) {
          lastProgress = performance.now();
          progress(`  t=${round((lastProgress - t0) / 1000, 0)} s: ${published} published, ${stored} stored, ${inflight} awaiting PubAck, ${total - head} planned and not yet sent` +
            (rollout ? `; rollout: ${rollout.stats.assigned} assigned, ${rollout.stats.active} active, ${rollout.stats.failed} failed` : ""));
        }
      }
    }

    const machineBefore = machine();
    if (CPU_PROF) {
      fs.mkdirSync(CPU_PROF, { recursive: true });
      await server.startProfile();
    }
    await sleep(Math.max(0, wall0 - Date.now()));
    const s0 = { cpuMs: serversCpuMs(servers) };
    const dbRows = async (q) => (await db.query(q)).rows;
    const svc0 = await serviceCpu(dbRows, infra.nats.port);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const epoch0 = Date.now();
    const activity = PG_ACTIVITY_MS ? await samplePgActivity(infra.db.url, PG_ACTIVITY_MS, t0, (err) => progress(`  pg_stat_activity sampling stopped: ${err.message}`)) : null;
    const poller = poll();
    let rolloutId = null;
    let rolloutCreatedAt = null;
    const admin = async (p, init = {}) => {
      // a GET is retried when its pooled keep-alive connection was closed by the server as it was reused ("other side
      // closed": the admin connection sits idle through the window); a POST is not (it may have been carried out)
      for (let attempt = 1; ; attempt++) {
        try {
          return await fetch(`${server.url}${p}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" } });
        } catch (err) {
          if ((init.method ?? "GET") !== "GET" || attempt >= 3) throw err;
          progress(`  GET ${p} failed (${err.cause?.message ?? err.message}); retrying`);
        }
      }
    };
    // each report is published when due; what is still unsent 2x the window after it closed is given up (`unsent`)
    const sendDeadline = t0 + 3 * WINDOW_SEC * 1000;
    while ((head < total && performance.now() < sendDeadline) || inflight > 0) {
      while (head < total && inflight < MAX_INFLIGHT && wall0 + plan[4 * head + 3] <= Date.now() && performance.now() < sendDeadline) publishPlanned(head++);
      if (ro && rolloutId === null && performance.now() - t0 > ROLLOUT_AT * WINDOW_SEC * 1000) {
        // an admin starts a staged rollout, a tenth of the way into the window
        rolloutId = "";
        rolloutCreatedAt = performance.now();
        const gates = { maxFailureRate: Math.min(1, Math.max(0.2, 5 * FAILURE_RATE)), minSuccesses: 1, minLoadSuccessRate: 0, maxErrorRate: 1, minTokensPerSecRatio: null };
        const rings = [
          { name: "canary", percent: 1, soakSec: 2, gates },
          { name: "early", percent: 10, soakSec: 2, gates },
          { name: "broad", percent: 100, soakSec: 0, gates },
        ];
        void admin("/api/v1/rollouts", { method: "POST", body: JSON.stringify({ entryId: ro.entry.id, group: ROLLOUT_GROUP, rings }) }).then(async (res) => {
          if (res.status !== 201) throw new Error(`create rollout: HTTP ${res.status} ${await res.text()}`);
          rolloutId = (await res.json()).id;
          progress(`  rollout ${rolloutId} created ${round(performance.now() - rolloutCreatedAt)} ms after the POST`);
        }).catch((err) => (firstError ??= err.message));
      }
      await sleep(5);
    }
    // the rollout runs to its end (completed, paused, failed) or BENCH_SIM_ROLLOUT_WAIT_SECONDS after the window
    let rolloutView = null;
    if (ro) {
      const until = performance.now() + ROLLOUT_WAIT_SEC * 1000;
      for (;;) {
        if (rolloutId) {
          rolloutView = await (await admin(`/api/v1/rollouts/${rolloutId}`)).json();
          if (["completed", "paused", "failed", "cancelled", "aborted"].includes(rolloutView.state) && rollout.stats.busy === 0) break;
        }
        if (performance.now() > until) break;
        await sleep(500);
      }
      while (inflight > 0) await sleep(20);
      progress(`  rollout ${rolloutView?.state ?? "not created"}: ${rollout.stats.assigned} assigned, ${rollout.stats.active} active, ${rollout.stats.failed} failed, ${rollout.stats.updateReports} update reports, ${rollout.stats.refused} refused ${[...rollout.stats.reasons].join(", ")}`);
    }
    const publishedMs = performance.now() - t0;
    progress(`${published} published in ${round(publishedMs / 1000, 1)} s (${publishErrors} without PubAck); draining`);
    const drainDeadline = performance.now() + DRAIN_SEC * 1000;
    for (;;) {
      stored = (await db.query(`SELECT count(*)::int AS n FROM "ProcessedMessage"`)).rows[0].n;
      if (stored >= acked.size || performance.now() > drainDeadline) break;
      await sleep(100);
    }
    const wallMs = performance.now() - t0;
    const s1 = { cpuMs: serversCpuMs(servers), rssBytes: Math.max(...servers.map((x) => procStats(x.pid).rssBytes)) };
    const svc = cpuBetween(svc0, await serviceCpu(dbRows, infra.nats.port));
    const client = process.cpuUsage(client0);
    polling = false;
    await poller;
    const activityBySecond = await activity?.stop();
    const machineAfter = machine();
    if (CPU_PROF) {
      const file = await server.stopProfile(path.join(CPU_PROF, `fleet-sim-${n}-${Date.now()}.cpuprofile`));
      progress(`server CPU profile ${file}; top self time:`);
      for (const f of cpuProfileTop(file, 15)) progress(`  ${f.pct}% ${f.ms} ms ${f.fn} ${f.where}`);
    }

    // Lost means never stored, not stored late: a backlog left at the drain deadline is given up to
    // BENCH_SIM_SETTLE_SECONDS more before the rows are counted (the rates above already stopped at the deadline).
    const storedAtDeadline = stored;
    const settleDeadline = performance.now() + SETTLE_SEC * 1000;
    let lastSettleProgress = performance.now();
    while (stored < acked.size && performance.now() < settleDeadline) {
      await sleep(1000);
      stored = (await db.query(`SELECT count(*)::int AS n FROM "ProcessedMessage"`)).rows[0].n;
      if (performance.now() - lastSettleProgress > 10_000) {
        lastSettleProgress = performance.now();
        progress(`  settling: ${stored} of ${acked.size} acked reports stored`);
      }
    }
    // the server's view of the rollout once every update report is stored (it lags the devices by the ingest backlog)
    if (rolloutId) {
      const until = performance.now() + 30_000;
      do {
        rolloutView = await (await admin(`/api/v1/rollouts/${rolloutId}`)).json();
        if (rolloutView.state !== "running") break;
        await sleep(1000);
      } while (performance.now() < until);
    }
    const counts = await account(infra.db.url, acked, uncertain);
    const { rows: received } = await db.query(`SELECT kind, EXTRACT(EPOCH FROM ("receivedAt" - "sentAt")) * 1000 AS ms FROM "ProcessedMessage"`);
    const lagReceived = received.map((r) => Number(r.ms));
    const byKind = {};
    for (const r of received) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    const rejected = (await db.query(`SELECT count(*)::int AS n FROM "AuditLog" WHERE action = 'report.rejected'`)).rows[0].n;
    const cpuMs = s1.cpuMs - s0.cpuMs;
    const result = {
      devices: n,
      reportsPerSec: round(storedAtDeadline / (wallMs / 1000), 1),
      lagP99Ms: percentile(lag, 99),
      lost: counts.lost,
      duplicated: counts.duplicated,
      // all replicas together (% of one core)
      serverCpuPct: round((cpuMs / wallMs) * 100, 1),
      ...(REPLICAS > 1 ? { replicas: REPLICAS } : {}),
      // PostgreSQL's backends on this database and the private nats-server over the same time (% of one core)
      postgresCpuPct: round((svc.postgresMs / wallMs) * 100, 1),
      natsCpuPct: svc.natsMs === null ? null : round((svc.natsMs / wallMs) * 100, 1),
      serverRssMB: round(Math.max(...rss, s1.rssBytes / MB), 1),
      offeredPerSec: round(published / (publishedMs / 1000), 1),
      stored: counts.stored,
      storedByDrainDeadline: storedAtDeadline,
      published,
      unsent: total - head,
      signedLate,
      presignedMB: round(presignedBytes / MB, 1),
      signSeconds: round(signSec, 1),
      changeShare: CHANGE_SHARE,
      publishErrors,
      ...(firstError ? { firstPublishError: firstError } : {}),
      rejected,
      byKind,
      lagP50Ms: percentile(lag, 50),
      lagP99PlannedMs: percentile(lagPlanned, 99),
      lagSampled: lag.length,
      lagPollMs: LAG_POLL_MS,
      lagNotStoredAtEnd: pendingLag.size,
      lagReceivedP99Ms: round(percentile(lagReceived, 99), 0),
      simBehindScheduleP99Ms: percentile(behind, 99),
      longestStallSec: round(longestStallMs / 1000, 1),
      cpuMsPerReport: round(cpuMs / Math.max(1, storedAtDeadline), 3),
      wallSeconds: round(wallMs / 1000, 1),
      coldStart: COLD_START,
      autovacuum: autovacuum.enabled ? { emulated: true, vacuums: autovacuum.runs.filter((r) => r.vacuum).map((r) => `${r.table} ${r.dead} dead, ${r.ms} ms`) } : "on",
      onlineAtWindow,
      drainSeconds: round((wallMs - publishedMs) / 1000, 1),
      simClientCpuPct: round(((client.user + client.system) / 1000 / wallMs) * 100, 1),
      loadavgBefore: machineBefore.loadavg,
      loadavgAfter: machineAfter.loadavg,
      dupTablesChecked: counts.tablesChecked,
      ...(rollout
        ? {
            // assigned: devices that read and verified an install assignment; time to active: from the admin's POST to
            // the device's signed "active" report (ring soaks included); active/failed from the server's totals
            rollout: {
              targeted: ro.targeted.length,
              assigned: rollout.stats.assigned,
              active: rolloutView?.totals?.active ?? null,
              failed: rolloutView?.totals?.failed ?? null,
              state: rolloutView?.state ?? "not created",
              timeToActiveP50Ms: round(percentile(rollout.stats.activeAtMs.map((x) => x - rolloutCreatedAt), 50), 0),
              timeToActiveP95Ms: round(percentile(rollout.stats.activeAtMs.map((x) => x - rolloutCreatedAt), 95), 0),
              simActive: rollout.stats.active,
              simFailed: rollout.stats.failed,
              updateReports: rollout.stats.updateReports,
              refused: rollout.stats.refused,
              failureRate: FAILURE_RATE,
            },
          }
        : {}),
    };
    // the server's own log (pino JSON: batches, warnings) outlives the run's temp dir, for a look at its stalls
    const stamp = Date.now();
    const keptLogs = servers.map((_, k) => {
      const kept = path.join(os.tmpdir(), `fleet-sim-${n}-${serverLogName(k + 1).replace(".log", "")}-${stamp}.log`);
      fs.copyFileSync(path.join(infra.dir, serverLogName(k + 1)), kept);
      return kept;
    });
    result.serverLog = keptLogs.join(" ");
    // the servers' account of their batches (pino JSON lines), as bench/server-ingest reads it
    const logLines = keptLogs.flatMap((f) => fs.readFileSync(f, "utf8").split("\n"));
    const batches = logLines.filter((l) => l.includes('"report batch stored"')).map((l) => JSON.parse(l));
    if (batches.length) {
      result.serverBatches = {
        count: batches.length,
        meanSize: round(batches.reduce((a, b) => a + b.batch, 0) / batches.length, 1),
        commitP50Ms: percentile(batches.map((b) => b.commitMs), 50),
        commitP95Ms: percentile(batches.map((b) => b.commitMs), 95),
      };
    }
    if (activityBySecond) result.pgActivity = reportActivity(n, activityBySecond, batches, logLines.filter((l) => l.includes('"ring started"')).map((l) => JSON.parse(l)), epoch0, stamp, activity.samples);
    progress(`${n} devices: ${JSON.stringify(result)}`);
    return result;
  } catch (err) {
    // a failed size keeps its server's log too (the temp dir goes with infra.dispose below)
    const log = path.join(infra.dir, serverLogName(1));
    if (fs.existsSync(log)) {
      const kept = path.join(os.tmpdir(), `fleet-sim-${n}-server-failed-${Date.now()}.log`);
      fs.copyFileSync(log, kept);
      progress(`${n} devices failed: ${err.message}; server log kept in ${kept}`);
    }
    throw err;
  } finally {
    await stopKeepingOnline?.();
    await autovacuum?.stop();
    await db.end().catch(() => undefined);
    await Promise.allSettled(conns.map((nc) => nc.close()));
    await Promise.all(servers.map((x) => x.close().catch((err) => console.error(`[fleet-sim] server close: ${err.message}`))));
    await signers.close().catch(() => undefined);
    await infra.dispose();
  }
}

/**
 * Each size runs in its own process group (this file with BENCH_SIM_CHILD_SIZE): a size whose services do not come up
 * within startupSec(n) (seen twice on the shared machine before keys were derived from a seed) is killed with
 * its nats-server and tried once more.
 */
async function runSizeInChild(n) {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_SIM_CHILD_SIZE: String(n) }, detached: true, stdio: ["ignore", "pipe", "inherit"] });
    let result = null;
    let up = false;
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      for (let k = buf.indexOf("\n"); k >= 0; k = buf.indexOf("\n")) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 1);
        if (line.startsWith("FLEET_SIM_RESULT ")) result = JSON.parse(line.slice("FLEET_SIM_RESULT ".length));
        else console.log(line);
        if (line.includes("] server pid ")) up = true;
      }
    });
    const exited = new Promise((r) => child.once("exit", r));
    const timer = setTimeout(() => {
      if (up) return;
      progress(`${n} devices: services not up after ${startupSec(n)} s; stopping attempt ${attempt}`);
      process.kill(-child.pid, "SIGTERM");
    }, startupSec(n) * 1000);
    const code = await exited;
    clearTimeout(timer);
    if (result) return result;
    if (up) throw new Error(`${n} devices: the run failed (exit ${code})`);
  }
  throw new Error(`${n} devices: services did not come up in two attempts`);
}

if (process.env.BENCH_SIM_CHILD_SIZE) {
  const n = Number(process.env.BENCH_SIM_CHILD_SIZE);
  // a hung size fails instead of blocking the machine indefinitely
  setTimeout(() => {
    console.error(`[fleet-sim] ${n} devices: no result after ${3 * WINDOW_SEC + DRAIN_SEC + SETTLE_SEC + ROLLOUT_WAIT_SEC + 600} s; giving up`);
    // this process leads its own group (spawned detached): end the server and nats-server with it, not only itself
    // (an exit alone left the server child running, busy, for half an hour)
    process.kill(-process.pid, "SIGKILL");
  }, (3 * WINDOW_SEC + DRAIN_SEC + SETTLE_SEC + ROLLOUT_WAIT_SEC + 600) * 1000).unref();
  console.log(`FLEET_SIM_RESULT ${JSON.stringify(await runSize(n))}`);
  process.exit(0);
}

const before = machine();
progress(`machine: ${before.cpu}, ${before.cores} cores, ${before.ramGB} GB RAM; loadavg ${before.loadavg.join(" ")}`);
progress(`sizes ${SIZES.join(", ")}; intervals ${JSON.stringify(INTERVALS_SEC)} s; time ×${COMPRESSION}; ${WINDOW_SEC} s per size, at most ${MAX_REPORTS} reports`);
const sizes = [];
for (const n of SIZES) sizes.push(await runSizeInChild(n));
const after = machine();
const contended = Math.max(before.loadavg[0], after.loadavg[0], ...sizes.flatMap((s) => [s.loadavgBefore[0], s.loadavgAfter[0]])) > 1.5;
console.log("");
console.log(`| devices | offered/s | unsent | signed late | pre-signed MB | change share | rollout assigned/active/failed (state) | stored/s | lag p50 ms | lag p99 ms | lag p99 ms w/o update reports | lost | duplicated | rejected | server CPU % (1 core) | server RSS MB | drain s |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const s of sizes) {
  console.log(`| ${s.devices} | ${s.offeredPerSec} | ${s.unsent} | ${s.signedLate} | ${s.presignedMB} | ${s.changeShare} | ${s.rollout ? `${s.rollout.assigned}/${s.rollout.active}/${s.rollout.failed} (${s.rollout.state})` : "-"} | ${s.reportsPerSec} | ${s.lagP50Ms} | ${s.lagP99Ms} | ${s.lagP99PlannedMs} | ${s.lost} | ${s.duplicated} | ${s.rejected} | ${s.serverCpuPct} | ${s.serverRssMB} | ${s.drainSeconds} |`);
}
console.log("");
progress(
  `machine: ${before.cpu}, ${before.cores} cores, ${before.ramGB} GB RAM; loadavg before ${before.loadavg.join(" ")}, after ${after.loadavg.join(" ")}` +
    `${contended ? " — shared machine, under contention" : ""}; server, PostgreSQL, nats-server and the simulator share these cores`,
);
progress(
  `NATS without per-device auth (simulator); devices seeded in bulk; time ×${COMPRESSION}; ${ACTIVE_SHARE * 100}% of devices send metrics; ` +
    `inventory/models/posture sent in ${CHANGE_SHARE * 100}% of their intervals (BENCH_SIM_CHANGE_SHARE; 1 = every interval, the worst case); ` +
    `every planned report PRE-SIGNED on ${SIGN_THREADS} threads before its window (signing is each device's own CPU work, not this machine's: the window measures the server), ` +
    `rollout update reports signed live; rollout ${ROLLOUT_SHARE * 100}% of devices, failure rate ${FAILURE_RATE}, ${ARTIFACT_MB} MB artifact`,
);
const summary = sizes.map((s) => ({
  devices: s.devices,
  reportsPerSec: s.reportsPerSec,
  lagP99Ms: s.lagP99Ms,
  lost: s.lost,
  duplicated: s.duplicated,
  serverCpuPct: s.serverCpuPct,
  serverRssMB: s.serverRssMB,
  changeShare: s.changeShare,
  lagP99PlannedMs: s.lagP99PlannedMs,
  ...(s.rollout ? { rollout: { assigned: s.rollout.assigned, active: s.rollout.active, failed: s.rollout.failed, state: s.rollout.state, timeToActiveP50Ms: s.rollout.timeToActiveP50Ms, timeToActiveP95Ms: s.rollout.timeToActiveP95Ms } } : {}),
}));
console.log(`BENCH fleet-sim ${JSON.stringify({ sizes: summary })}`);
