// bench/server-ingest: report ingestion through the real server, which runs as its own process (production
// config, LOG_LEVEL=info, pino JSON to a file) on a private database and nats-server. N simulated devices enroll
// over REST with their own Ed25519 keys and NATS connections, then each publishes M signed reports over
// JetStream (a mix: heartbeats, inventory with GPUs, models), one after another as its PubAcks allow (as an agent
// drains its queue), all devices at once. Every report is signed before the window opens: signing is the devices'
// own CPU work (about as costly as the server's verification), and here the devices share the server's 2 cores, so
// signing inside the window would measure the simulated devices as much as the server. Measured:
// - reportsPerSec: stored reports (ProcessedMessage rows, polled every 50 ms) / the window;
// - lag: publish-to-stored per report. `lag` is the publish call to the first 50 ms poll that sees the report
//   committed (the server stores in stream order, so report k of the stream is visible once k rows are; an upper
//   bound by up to one poll); `lagReceived` is sentAt (stamped when the report was signed, before the window) to the
//   row's receivedAt (stamped when its batch was taken, before the transaction): it includes the wait to be published;
// - lost (acked by JetStream, not stored) and duplicated (more than one row for one msgId) from the database;
// - the server process's CPU ms per stored report over the window (cpuMsPerReport) and until it is idle again, with the
//   work the reports set off (cpuMsPerReportWithFollowUp), and RSS; PostgreSQL's and nats-server's CPU over the window; the
//   machine (CPU, cores, RAM, load).
// BENCH_DEVICES (200), BENCH_REPORTS (50 per device), BENCH_CPU_PROF=<dir> writes a .cpuprofile of the server over
// the measured window only and prints its top functions. The last line is `BENCH server-ingest <json>`.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { deviceInboxPrefix, exampleInventory, exampleModels, generateSigningKeyPair, importPrivateJwk, signReport, subjects } from "@fleet/protocol";
import { enrollmentToken, importFromServer, startInfra, startServerChild } from "./lib/benchServices.mjs";
import { cpuProfileTop } from "./lib/cpuProfileTop.mjs";
import { percentile } from "./lib/percentile.mjs";
import { procStats } from "./lib/procStats.mjs";
import { cpuBetween, serviceCpu } from "./lib/serviceCpu.mjs";
import { round } from "./lib/stats.mjs";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 200);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 50);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const progress = (msg) => console.log(`[server-ingest] ${msg}`);
const MB = 2 ** 20;
const { connect, jwtAuthenticator, nkeys } = await importFromServer("nats");

/** Report i of a device: 3 of 5 are heartbeats, 1 an inventory with two GPUs, 1 a models report with three files. */
function bodyFor(i, hostname) {
  switch (i % 5) {
    case 1:
      return {
        kind: "inventory",
        body: {
          ...exampleInventory,
          collectedAt: new Date().toISOString(),
          gpus: [exampleInventory.gpus[0], { vendor: "AMD", model: "Radeon 780M", vramBytes: null, vramFreeBytes: null, driverVersion: null, bus: null }],
          os: { ...exampleInventory.os, hostname },
        },
      };
    case 3: {
      const m = exampleModels.models[0];
      const files = ["llama-3.2-1b-q8_0.gguf", "llama-3-8b-q4_k_m.gguf", "qwen2.5-7b-q4_k_m.gguf"];
      return { kind: "models", body: { ...exampleModels, models: files.map((f) => ({ ...m, fileName: f, path: `${exampleModels.modelsDir}/${f}` })) } };
    }
    default:
      return { kind: "heartbeat", body: { agentVersion: "0.1.0", uptimeSec: 60 + i, queueDepth: 0, runtime: { state: "ready", activeModel: "llama-3.2-1b-q8_0.gguf" }, rssBytes: 61_000_000 } };
  }
}

async function enrollDevice(serverUrl, natsUrl, n) {
  const { publicJwk, privateJwk } = await generateSigningKeyPair();
  const hostname = `ws-bench-${String(n).padStart(3, "0")}`;
  // as the agent: its own NATS nkey, a user JWT for it from the server (NATS runs with per-device identity)
  const natsUser = nkeys.createUser();
  const res = await fetch(`${serverUrl}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: await enrollmentToken(serverUrl), publicKeyJwk: publicJwk, hostname, agentVersion: "0.1.0", natsUserKey: natsUser.getPublicKey() }),
  });
  if (res.status !== 201) throw new Error(`enroll: HTTP ${res.status} ${await res.text()}`);
  const enrollment = await res.json();
  const auth = enrollment.natsUserJwt ? { authenticator: jwtAuthenticator(enrollment.natsUserJwt, natsUser.getSeed()), inboxPrefix: deviceInboxPrefix(enrollment.deviceId) } : {};
  // noAsyncTraces: nats.js otherwise builds an Error (a stack trace) for every request, i.e. every JetStream publish
  const nc = await connect({ servers: natsUrl, name: hostname, noAsyncTraces: true, ...auth });
  return { id: enrollment.deviceId, hostname, subj: subjects(enrollment.subjectPrefix), key: await importPrivateJwk(privateJwk), nc, js: nc.jetstream() };
}

/** One device's reports, signed ahead of the window (sentAt = when signed). */
async function signAll(d) {
  const out = [];
  for (let i = 0; i < REPORTS; i++) {
    const { kind, body } = bodyFor(i, d.hostname);
    const sentAt = new Date();
    const report = { v: 1, kind, deviceId: d.id, msgId: randomUUID(), seq: i, sentAt: sentAt.toISOString(), body };
    out.push({ report, subject: d.subj.report(d.id, kind), data: new TextEncoder().encode(await signReport(report, d.key)) });
  }
  return out;
}

/** One device's signed reports, one after another as its PubAcks allow (as an agent drains its queue). */
async function publishAll(d, signed, sent) {
  for (const { report, subject, data } of signed) {
    const t = performance.now();
    const publishedAtMs = Date.now();
    const ack = await d.js.publish(subject, data, { msgID: report.msgId });
    sent.push({ msgId: report.msgId, publishedAtMs, streamSeq: ack.seq, pubAckMs: performance.now() - t });
  }
}

/** What else shares this machine: it is not dedicated to the benchmark. */
function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? "unknown", cores: os.availableParallelism(), ramGB: round(os.totalmem() / 2 ** 30, 1), loadavg: os.loadavg().map((x) => round(x, 2)) };
}

const infra = await startInfra("server-ingest");
let server = null;
const devices = [];
try {
  if (CPU_PROF) fs.mkdirSync(path.resolve(CPU_PROF), { recursive: true });
  // the whole simulated fleet enrolls from one address in seconds: above the per-client REST limits
  const env = infra.env({ LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info", ENROLL_RATE_LIMIT_PER_MIN: "1000000", RATE_LIMIT_PER_MIN: "1000000" });
  server = await startServerChild(env, path.join(infra.dir, "server.log"));
  progress(`server pid ${server.pid} on ${server.url}${CPU_PROF ? ` (profiling into ${CPU_PROF})` : ""}`);
  for (let n = 0; n < DEVICES; n += 10) {
    devices.push(...(await Promise.all(Array.from({ length: Math.min(10, DEVICES - n) }, (_, k) => enrollDevice(server.url, infra.nats.url, n + k)))));
  }
  const prisma = infra.db.prisma;
  const total = DEVICES * REPORTS;
  progress(`${DEVICES} devices enrolled; signing ${REPORTS} reports each (${total} in all) before the window`);
  const tSign = performance.now();
  const signed = await Promise.all(devices.map((d) => signAll(d)));
  progress(`signed in ${round((performance.now() - tSign) / 1000, 1)} s; publishing`);
  await new Promise((r) => setTimeout(r, 1000)); // let enrollment work settle before the window opens

  const machineBefore = machine();
  if (CPU_PROF) await server.startProfile();
  const s0 = procStats(server.pid);
  const svc0 = await serviceCpu((q) => infra.db.prisma.$queryRawUnsafe(q), infra.nats.port);
  const rss = [];
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = [];
  let published = false;
  const publishing = Promise.all(devices.map((d, k) => publishAll(d, signed[k], sent))).then(() => {
    published = performance.now();
  });
  let stored = 0;
  let lastProgress = t0;
  const polls = []; // [epoch ms when the poll returned, rows committed]
  while (stored < total) {
    await new Promise((r) => setTimeout(r, 50));
    stored = await prisma.processedMessage.count();
    polls.push([Date.now(), stored]);
    rss.push(procStats(server.pid).rssBytes / MB);
    if (performance.now() - lastProgress > 5000) {
      lastProgress = performance.now();
      progress(`${stored}/${total} stored after ${round((lastProgress - t0) / 1000, 1)} s`);
    }
    if (performance.now() - t0 > 600_000) throw new Error(`only ${stored}/${total} stored after 10 minutes`);
  }
  const wallMs = performance.now() - t0;
  const s1 = procStats(server.pid);
  const svc = cpuBetween(svc0, await serviceCpu((q) => infra.db.prisma.$queryRawUnsafe(q), infra.nats.port));
  const client = process.cpuUsage(client0);
  const profileFile = CPU_PROF ? await server.stopProfile(path.resolve(CPU_PROF, `server-ingest-${Date.now()}.cpuprofile`)) : null;
  // Work the reports set off after they were stored (compliance evaluation, compatibility, the liveness flush) runs on
  // after the window: its CPU until the server is idle (under 5 % of a core for a second, at most 60 s) is counted too.
  let settled = procStats(server.pid);
  for (let k = 0; k < 60; k++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = procStats(server.pid);
    const idle = now.cpuMs - settled.cpuMs < 50;
    settled = now;
    if (idle) break;
  }
  await publishing;

  const rows = await prisma.processedMessage.findMany({ select: { msgId: true, kind: true, sentAt: true, receivedAt: true } });
  const storedIds = new Set(rows.map((r) => r.msgId));
  const lost = sent.filter((x) => !storedIds.has(x.msgId)).length;
  // every kind's table is unique on msgId, so these stay 0 unless a constraint is dropped: checked, not assumed
  const [dup] = await prisma.$queryRaw`SELECT
    (SELECT count(*) - count(DISTINCT "msgId") FROM "Heartbeat") + (SELECT count(*) - count(DISTINCT "msgId") FROM "InventorySnapshot")
    + (SELECT count(*) - count(DISTINCT "msgId") FROM "ProcessedMessage") AS n`;
  const sentIds = new Set(sent.map((x) => x.msgId));
  const duplicated = Number(dup.n) + rows.filter((r) => !sentIds.has(r.msgId)).length;

  // visible lag: the k-th report in stream order is committed once k rows are (one consumer, stream order)
  const bySeq = [...sent].sort((a, b) => a.streamSeq - b.streamSeq);
  const lag = [];
  let p = 0;
  bySeq.forEach((x, k) => {
    while (p < polls.length && polls[p][1] < k + 1) p++;
    if (p < polls.length) lag.push(polls[p][0] - x.publishedAtMs);
  });
  const lagStats = (xs) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) });
  const byKind = {};
  for (const r of rows) (byKind[r.kind] ??= []).push(r.receivedAt.getTime() - r.sentAt.getTime());
  const rejected = await prisma.auditLog.count({ where: { action: "report.rejected" } });
  const cpuMs = s1.cpuMs - s0.cpuMs;
  const result = {
    devices: DEVICES,
    reportsPerDevice: REPORTS,
    machine: { ...machineBefore, loadavgAfter: machine().loadavg, sharedWithOtherWork: true },
    logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
    serverBuild: `apps/server/${process.env.BENCH_SERVER_DIST ?? "dist"}`,
    stored: rows.length,
    lost,
    duplicated,
    rejected,
    wallSeconds: round(wallMs / 1000, 2),
    publishSeconds: round((published - t0) / 1000, 2),
    reportsPerSec: round(rows.length / (wallMs / 1000), 1),
    cpuMsPerReport: round(cpuMs / rows.length, 3),
    // with the follow-up work the reports set off, until the server was idle again
    cpuMsPerReportWithFollowUp: round((settled.cpuMs - s0.cpuMs) / rows.length, 3),
    lagMs: lagStats(lag),
    lagReceivedMs: { ...lagStats(rows.map((r) => r.receivedAt.getTime() - r.sentAt.getTime())), ...Object.fromEntries(Object.entries(byKind).map(([k, xs]) => [k, { p50: percentile(xs, 50), p99: percentile(xs, 99) }])) },
    pubAckMs: { p50: round(percentile(sent.map((x) => x.pubAckMs), 50)), p95: round(percentile(sent.map((x) => x.pubAckMs), 95)) },
    server: {
      cpuPercentOfOneCore: round((cpuMs / wallMs) * 100, 1),
      rssMB: { before: round(s0.rssBytes / MB, 1), mean: round(rss.reduce((a, b) => a + b, 0) / rss.length, 1), max: round(Math.max(...rss), 1) },
    },
    // PostgreSQL's backends and nats-server over the window (% of one core): what the stored reports cost besides the server
    postgresCpuPercentOfOneCore: round((svc.postgresMs / wallMs) * 100, 1),
    natsCpuPercentOfOneCore: svc.natsMs === null ? null : round((svc.natsMs / wallMs) * 100, 1),
    // the simulated devices (publishing; signing was done before the window) share the 2 cores with the server, PostgreSQL and nats-server
    benchClientCpuPercentOfOneCore: round(((client.user + client.system) / 1000 / wallMs) * 100, 1),
    ...(profileFile ? { profile: { file: profileFile, top: cpuProfileTop(profileFile, 8).map((f) => `${f.pct}% ${f.fn} ${f.where}`) } } : {}),
  };
  // the server's own account of its batches (pino JSON lines)
  const batches = fs
    .readFileSync(path.join(infra.dir, "server.log"), "utf8")
    .split("\n")
    .filter((l) => l.includes('"report batch stored"'))
    .map((l) => JSON.parse(l));
  if (batches.length) {
    result.batches = {
      count: batches.length,
      meanSize: round(batches.reduce((a, b) => a + b.batch, 0) / batches.length, 1),
      maxSize: Math.max(...batches.map((b) => b.batch)),
      commitMs: { p50: percentile(batches.map((b) => b.commitMs), 50), p95: percentile(batches.map((b) => b.commitMs), 95) },
    };
    progress(`${batches.length} batches, mean ${result.batches.meanSize} reports (max ${result.batches.maxSize}); commit p50 ${result.batches.commitMs.p50} ms, p95 ${result.batches.commitMs.p95} ms`);
  }
  if (profileFile) {
    progress(`server CPU profile of the window: ${profileFile}; top self time:`);
    for (const f of cpuProfileTop(profileFile, 15)) progress(`  ${String(f.ms).padStart(6)} ms ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}`);
  }
  progress(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.ramGB} GB; load ${machineBefore.loadavg.join(" ")} -> ${result.machine.loadavgAfter.join(" ")} (shared: other work runs beside it)`);
  progress(
    `${result.stored} stored in ${result.wallSeconds} s = ${result.reportsPerSec} reports/s (published in ${result.publishSeconds} s); lost ${lost}, duplicated ${duplicated}; ` +
      `lag p50 ${result.lagMs.p50} ms, p95 ${result.lagMs.p95} ms, p99 ${result.lagMs.p99} ms; server ${result.server.cpuPercentOfOneCore} % of a core, ${result.cpuMsPerReport} ms CPU/report (${result.cpuMsPerReportWithFollowUp} with the follow-up work), RSS max ${result.server.rssMB.max} MB`,
  );
  console.log(`BENCH server-ingest ${JSON.stringify(result)}`);
} finally {
  await Promise.allSettled(devices.map((d) => d.nc.close()));
  await server?.close().catch((err) => console.error(`[server-ingest] server close: ${err.message}`));
  await infra.dispose();
}
