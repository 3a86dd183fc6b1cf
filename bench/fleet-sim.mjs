// bench/fleet-sim: a simulated fleet against the real server (its own process, production config), real
// nats-server (JetStream) and PostgreSQL, all on 127.0.0.1. Per fleet size (BENCH_SIZES, default
// "1000,10000,50000"), on a fresh database, NATS and server:
// - N devices are seeded in bulk into the database (one Ed25519 key pair each, Device rows as enrollment writes
//   them; not enrolled over REST, which would take longer than the measurement at 50,000);
// - every device sends the reports an agent sends, on the agent's intervals (heartbeat 30 s, metrics 60 s, models
//   and posture 300 s, inventory 3600 s; bench/lib/sim/schedule.mjs), each at its own random phase (steady state),
//   with a spread of hardware in its inventory (RAM 8-128 GB; no GPU, integrated, or 4-24 GB VRAM; Windows, Linux,
//   macOS; bench/lib/sim/fleet.mjs); metrics only from the BENCH_SIM_ACTIVE_SHARE (0.25) of devices serving local
//   inference (the agent sends none for an idle window), while inventory, models and posture are sent on every
//   interval (the agent skips unchanged ones: a worst case). Each report is signed with the device's own key (signReport, as the agent and
//   bench/server-ingest do) and published over JetStream with its msgId; many devices share one of
//   BENCH_SIM_CONNECTIONS NATS connections, and NATS runs WITHOUT per-device auth here (one connection cannot hold
//   50,000 device identities);
// - time runs BENCH_TIME_COMPRESSION (default 1: the real intervals) times faster than the wall clock, for
//   BENCH_SIM_SECONDS (60) of wall time or BENCH_SIM_MAX_REPORTS (400,000) reports, whichever comes first; then the
//   backlog is given up to BENCH_SIM_DRAIN_SECONDS (120) to be stored (the rates stop there), and up to
//   BENCH_SIM_SETTLE_SECONDS (300) more before lost/duplicated are counted (late is not lost).
// Measured: reportsPerSec (every stored report / time from the first publish until the last acked one is stored),
// lag (publish-to-stored: one report in BENCH_SIM_LAG_SAMPLE is polled in ProcessedMessage every 250 ms, so an upper
// bound by up to one poll; lagReceived is sentAt to the row's receivedAt for every report), lost and duplicated
// from the database against what JetStream acked, the server's CPU (% of one core over that time) and max RSS.
// Rollout participation (simulated downloads, self-tests, failure rate) is not simulated yet.
// Last line: `BENCH fleet-sim {"sizes":[...]}`.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { importPrivateJwk, signReport, subjects } from "@fleet/protocol";
import { account } from "./lib/sim/accounting.mjs";
import { bodyFor, hardwareFor, servesInference } from "./lib/sim/fleet.mjs";
import { INTERVALS_SEC, forEachDue, makeSchedule, reportsPerSimSecond } from "./lib/sim/schedule.mjs";
import { deviceId, generateKeys, hostnameOf, seedFleet } from "./lib/sim/seed.mjs";
import { describeLoad, machineLoad } from "./lib/machineLoad.mjs";
import { cpuProfileTop } from "./lib/cpuProfileTop.mjs";
import { percentile } from "./lib/percentile.mjs";
import { procStats } from "./lib/procStats.mjs";
import { round } from "./lib/stats.mjs";

// The simulator's NATS runs without auth: set before bench/lib/benchServices.mjs loads the test helpers.
process.env.FLEET_TEST_NATS_AUTH = "none";
const { importFromServer, startInfra, startServerChild } = await import("./lib/benchServices.mjs");
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
/**
 * seconds a size's services (database, nats-server, keys, seed, server) get to come up before the attempt is stopped
 * and tried once more: 120 + 6 per 1,000 devices (50,000 keys take minutes on the loaded machine). The hang seen (the
 * process asleep in a futex after the database and nats-server were up, before any key was made) has no cause found.
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
const encoder = new TextEncoder();

function machine() {
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(), ramGB: round(os.totalmem() / 2 ** 30, 1), loadavg: os.loadavg().map((x) => round(x, 2)) };
}

async function runSize(n) {
  const ti = performance.now();
  progress(`${n} devices: starting a database (template clone) and nats-server`);
  const infra = await startInfra(`fleet-sim-${n}`);
  progress(`${n} devices: database and nats-server up in ${round((performance.now() - ti) / 1000, 1)} s`);
  let server = null;
  const conns = [];
  const db = new pg.Client({ connectionString: infra.db.url });
  try {
    let t = performance.now();
    const keys = generateKeys(n);
    progress(`${n} devices: keys generated in ${round((performance.now() - t) / 1000, 1)} s`);
    await seedFleet(infra.db.url, keys);
    progress(`${n} devices: keys generated and seeded in bulk in ${round((performance.now() - t) / 1000, 1)} s`);
    server = await startServerChild(infra.env({ LOG_LEVEL: "info" }), path.join(infra.dir, "server.log"));
    for (let c = 0; c < CONNECTIONS; c++) conns.push(await connect({ servers: infra.nats.url, name: `fleet-sim-${c}` }));
    const jss = conns.map((nc) => nc.jetstream());
    await db.connect();
    const subj = subjects(process.env.FLEET_SUBJECT_PREFIX ?? undefined);
    const cryptoKeys = new Array(n).fill(null);
    const seqs = new Uint32Array(n);
    const hw = new Array(n).fill(null);
    const schedule = makeSchedule(n);
    const active = Uint8Array.from({ length: n }, (_, i) => (servesInference(i, ACTIVE_SHARE) ? 1 : 0));
    const expectedPerSec = (reportsPerSimSecond(n) - (n * (1 - ACTIVE_SHARE)) / INTERVALS_SEC.metrics) * COMPRESSION;
    progress(`server pid ${server.pid}; ${CONNECTIONS} NATS connections; simulating ${WINDOW_SEC} s at ×${COMPRESSION} (≈${round(expectedPerSec, 0)} reports/s offered)`);

    // the fresh server's start-up work (e.g. over the seeded devices) settles before the window opens (at most 20 s)
    for (let k = 0; k < 20; k++) {
      const a = procStats(server.pid).cpuMs;
      await sleep(1000);
      if (procStats(server.pid).cpuMs - a < 150) break;
    }
    const loadBefore = await machineLoad();
    progress(`machine before: ${describeLoad(loadBefore)}`);
    const acked = new Set();
    const uncertain = new Set(); // publishes whose PubAck never came: maybe stored, so neither lost nor foreign
    const pendingLag = new Map(); // sampled msgId -> sentAt epoch ms
    const lag = [];
    const behind = []; // ms from when a report was due to when it was signed (the simulator falling behind)
    const rss = [];
    let published = 0;
    let inflight = 0;
    let publishErrors = 0;
    let firstError = null;
    const queue = []; // [deviceIndex, kind, dueWallMs]
    let head = 0;

    async function send(i, kind, dueAt) {
      cryptoKeys[i] ??= await importPrivateJwk(keys[i].privateJwk);
      hw[i] ??= hardwareFor(i);
      const id = deviceId(i);
      const sentAt = new Date();
      behind.push(sentAt.getTime() - dueAt);
      const body = bodyFor(kind, i, hostnameOf(i), hw[i], sentAt, 3600 + (sentAt.getTime() - wall0) / 1000);
      const report = { v: 1, kind, deviceId: id, msgId: randomUUID(), seq: seqs[i]++, sentAt: sentAt.toISOString(), body };
      const jws = await signReport(report, cryptoKeys[i]);
      try {
        await jss[i % CONNECTIONS].publish(subj.report(id, kind), encoder.encode(jws), { msgID: report.msgId, timeout: 30_000 });
        acked.add(report.msgId);
        if (published % LAG_SAMPLE === 0) pendingLag.set(report.msgId, sentAt.getTime());
      } catch (err) {
        publishErrors++;
        firstError ??= err.message;
        uncertain.add(report.msgId);
      }
      published++;
    }

    let stored = 0;
    let polling = true;
    let ticks = 0;
    let longestStallMs = 0;
    async function poll() {
      let lastProgress = performance.now();
      let lastStored = 0;
      let stalledSince = null;
      while (polling) {
        await sleep(250);
        // stalls: acked reports waiting while the stored count does not move (counted once a second)
        if (++ticks % 4 === 0) {
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
            lag.push(now - pendingLag.get(r.msgId));
            pendingLag.delete(r.msgId);
          }
        }
        rss.push(procStats(server.pid).rssBytes / MB);
        if (performance.now() - lastProgress > 5000) {
          lastProgress = performance.now();
          progress(`  t=${round((lastProgress - t0) / 1000, 0)} s: ${published} published, ${stored} stored, ${inflight} awaiting PubAck, ${queue.length - head} due and not yet sent`);
        }
      }
    }

    const machineBefore = machine();
    if (CPU_PROF) {
      fs.mkdirSync(CPU_PROF, { recursive: true });
      await server.startProfile();
    }
    const s0 = procStats(server.pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const wall0 = Date.now();
    const poller = poll();
    let simPrev = 0;
    let scheduled = 0;
    while (performance.now() - t0 < WINDOW_SEC * 1000 && scheduled < MAX_REPORTS) {
      const simNow = ((performance.now() - t0) / 1000) * COMPRESSION;
      const dueAt = Date.now();
      forEachDue(schedule, simPrev, simNow, (i, kind) => {
        if (kind === "metrics" && !active[i]) return;
        if (scheduled++ < MAX_REPORTS) queue.push([i, kind, dueAt]);
      });
      simPrev = simNow;
      while (head < queue.length && inflight < MAX_INFLIGHT) {
        const [i, kind, due] = queue[head];
        queue[head++] = undefined;
        inflight++;
        void send(i, kind, due).finally(() => inflight--);
      }
      await sleep(20);
    }
    // what was due within the window is still sent (the window bounds the schedule, not the backlog), for at most
    // another 2x the window: a simulator that cannot sign and publish what is due (50,000 devices on a loaded
    // machine) leaves the rest unsent (`unsent`: never offered, not lost)
    const sendDeadline = t0 + 3 * WINDOW_SEC * 1000;
    while ((head < queue.length && performance.now() < sendDeadline) || inflight > 0) {
      while (head < queue.length && inflight < MAX_INFLIGHT && performance.now() < sendDeadline) {
        const [i, kind, due] = queue[head];
        queue[head++] = undefined;
        inflight++;
        void send(i, kind, due).finally(() => inflight--);
      }
      await sleep(20);
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
    const s1 = procStats(server.pid);
    const client = process.cpuUsage(client0);
    polling = false;
    await poller;
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
      serverCpuPct: round((cpuMs / wallMs) * 100, 1),
      serverRssMB: round(Math.max(...rss, s1.rssBytes / MB), 1),
      offeredPerSec: round(published / (publishedMs / 1000), 1),
      stored: counts.stored,
      storedByDrainDeadline: storedAtDeadline,
      published,
      unsent: queue.length - head,
      publishErrors,
      ...(firstError ? { firstPublishError: firstError } : {}),
      rejected,
      byKind,
      lagP50Ms: percentile(lag, 50),
      lagSampled: lag.length,
      lagNotStoredAtEnd: pendingLag.size,
      lagReceivedP99Ms: round(percentile(lagReceived, 99), 0),
      simBehindScheduleP99Ms: percentile(behind, 99),
      longestStallSec: round(longestStallMs / 1000, 1),
      cpuMsPerReport: round(cpuMs / Math.max(1, storedAtDeadline), 3),
      wallSeconds: round(wallMs / 1000, 1),
      drainSeconds: round((wallMs - publishedMs) / 1000, 1),
      simClientCpuPct: round(((client.user + client.system) / 1000 / wallMs) * 100, 1),
      loadavgBefore: machineBefore.loadavg,
      loadavgAfter: machineAfter.loadavg,
      dupTablesChecked: counts.tablesChecked,
    };
    // the server's own log (pino JSON: batches, warnings) outlives the run's temp dir, for a look at its stalls
    const keptLog = path.join(os.tmpdir(), `fleet-sim-${n}-server-${Date.now()}.log`);
    fs.copyFileSync(path.join(infra.dir, "server.log"), keptLog);
    result.serverLog = keptLog;
    // the server's account of its batches (pino JSON lines), as bench/server-ingest reads it
    const batches = fs.readFileSync(keptLog, "utf8").split("\n").filter((l) => l.includes('"report batch stored"')).map((l) => JSON.parse(l));
    if (batches.length) {
      result.serverBatches = {
        count: batches.length,
        meanSize: round(batches.reduce((a, b) => a + b.batch, 0) / batches.length, 1),
        commitP50Ms: percentile(batches.map((b) => b.commitMs), 50),
        commitP95Ms: percentile(batches.map((b) => b.commitMs), 95),
      };
    }
    progress(`${n} devices: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await Promise.allSettled(conns.map((nc) => nc.close()));
    await server?.close().catch((err) => console.error(`[fleet-sim] server close: ${err.message}`));
    await infra.dispose();
  }
}

/**
 * Each size runs in its own process group (this file with BENCH_SIM_CHILD_SIZE): a size whose services do not come up
 * within startupSec(n) (seen twice on the shared machine: the process idle before seeding, cause not found) is killed with
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
    console.error(`[fleet-sim] ${n} devices: no result after ${3 * WINDOW_SEC + DRAIN_SEC + SETTLE_SEC + 600} s; giving up`);
    // this process leads its own group (spawned detached): end the server and nats-server with it, not only itself
    // (an exit alone left the server child running, busy, for half an hour)
    process.kill(-process.pid, "SIGKILL");
  }, (3 * WINDOW_SEC + DRAIN_SEC + SETTLE_SEC + 600) * 1000).unref();
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
console.log(`| devices | offered/s | unsent | stored/s | lag p50 ms | lag p99 ms | lost | duplicated | rejected | server CPU % (1 core) | server RSS MB | drain s |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const s of sizes) {
  console.log(`| ${s.devices} | ${s.offeredPerSec} | ${s.unsent} | ${s.reportsPerSec} | ${s.lagP50Ms} | ${s.lagP99Ms} | ${s.lost} | ${s.duplicated} | ${s.rejected} | ${s.serverCpuPct} | ${s.serverRssMB} | ${s.drainSeconds} |`);
}
console.log("");
progress(
  `machine: ${before.cpu}, ${before.cores} cores, ${before.ramGB} GB RAM; loadavg before ${before.loadavg.join(" ")}, after ${after.loadavg.join(" ")}` +
    `${contended ? " — shared machine, under contention" : ""}; server, PostgreSQL, nats-server and the simulator share these cores`,
);
progress(`NATS without per-device auth (simulator); devices seeded in bulk; time ×${COMPRESSION}; ${ACTIVE_SHARE * 100}% of devices send metrics; rollout participation not simulated`);
const summary = sizes.map((s) => ({
  devices: s.devices,
  reportsPerSec: s.reportsPerSec,
  lagP99Ms: s.lagP99Ms,
  lost: s.lost,
  duplicated: s.duplicated,
  serverCpuPct: s.serverCpuPct,
  serverRssMB: s.serverRssMB,
}));
console.log(`BENCH fleet-sim ${JSON.stringify({ sizes: summary })}`);
