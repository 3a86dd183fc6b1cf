// bench/server-ingest: report ingestion through the real server, which runs as its own process (production
// config, LOG_LEVEL=info, pino JSON to a file) on a private database and nats-server. N simulated devices enroll
// over REST with their own Ed25519 keys and NATS connections, then each publishes M signed reports over
// JetStream (a mix: heartbeats, inventory with GPUs, models) as fast as PubAcks allow. Measured: stored reports/s
// (ProcessedMessage count polled every 50 ms), publish-to-stored latency per kind (the row's receivedAt minus
// the report's sentAt, both stamped on this machine's clock), the server process's CPU and RSS.
// BENCH_DEVICES (50), BENCH_REPORTS (40 per device), BENCH_CPU_PROF=<dir> writes a .cpuprofile of the server.
// The last line is `BENCH server-ingest <json>`.
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { deviceInboxPrefix, exampleInventory, exampleModels, generateSigningKeyPair, importPrivateJwk, signReport, subjects } from "@fleet/protocol";
import { enrollmentToken, importFromServer, startInfra, startServerChild } from "./lib/benchServices.mjs";
import { percentile } from "./lib/percentile.mjs";
import { procStats } from "./lib/procStats.mjs";
import { round } from "./lib/stats.mjs";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 40);
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
  const nc = await connect({ servers: natsUrl, name: hostname, ...auth });
  return { id: enrollment.deviceId, hostname, subj: subjects(enrollment.subjectPrefix), key: await importPrivateJwk(privateJwk), nc, js: nc.jetstream() };
}

/** One device's reports, one after another, each signed just before it is published (sentAt = now). */
async function publishAll(d, pubAckMs) {
  for (let i = 0; i < REPORTS; i++) {
    const { kind, body } = bodyFor(i, d.hostname);
    const report = { v: 1, kind, deviceId: d.id, msgId: randomUUID(), seq: i, sentAt: new Date().toISOString(), body };
    const jws = await signReport(report, d.key);
    const t = performance.now();
    await d.js.publish(d.subj.report(d.id, kind), new TextEncoder().encode(jws), { msgID: report.msgId });
    pubAckMs.push(performance.now() - t);
  }
}

const infra = await startInfra("server-ingest");
let server = null;
const devices = [];
try {
  const execArgv = CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(CPU_PROF)}`] : [];
  server = await startServerChild(infra.env({ LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info" }), path.join(infra.dir, "server.log"), execArgv);
  progress(`server pid ${server.pid} on ${server.url}${CPU_PROF ? ` (profiling into ${CPU_PROF})` : ""}`);
  for (let n = 0; n < DEVICES; n += 10) {
    devices.push(...(await Promise.all(Array.from({ length: Math.min(10, DEVICES - n) }, (_, k) => enrollDevice(server.url, infra.nats.url, n + k)))));
  }
  const prisma = infra.db.prisma;
  const total = DEVICES * REPORTS;
  progress(`${DEVICES} devices enrolled; publishing ${REPORTS} reports each (${total} in all)`);
  await new Promise((r) => setTimeout(r, 1000)); // let enrollment work settle before the window opens

  const s0 = procStats(server.pid);
  const rss = [];
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const pubAckMs = [];
  let published = false;
  const publishing = Promise.all(devices.map((d) => publishAll(d, pubAckMs))).then(() => {
    published = performance.now();
  });
  let stored = 0;
  let lastProgress = t0;
  while (stored < total) {
    await new Promise((r) => setTimeout(r, 50));
    stored = await prisma.processedMessage.count();
    rss.push(procStats(server.pid).rssBytes / MB);
    if (performance.now() - lastProgress > 5000) {
      lastProgress = performance.now();
      progress(`${stored}/${total} stored after ${round((lastProgress - t0) / 1000, 1)} s`);
    }
    if (performance.now() - t0 > 600_000) throw new Error(`only ${stored}/${total} stored after 10 minutes`);
  }
  const wallMs = performance.now() - t0;
  await publishing;
  const s1 = procStats(server.pid);
  const client = process.cpuUsage(client0);

  const rows = await prisma.processedMessage.findMany({ select: { kind: true, sentAt: true, receivedAt: true } });
  const byKind = {};
  for (const r of rows) (byKind[r.kind] ??= []).push(r.receivedAt.getTime() - r.sentAt.getTime());
  const latency = (xs) => ({ count: xs.length, p50Ms: percentile(xs, 50), p95Ms: percentile(xs, 95), maxMs: Math.max(...xs), sharePerSec: round(xs.length / (wallMs / 1000), 1) });
  const rejected = await prisma.auditLog.count({ where: { action: "report.rejected" } });
  const result = {
    devices: DEVICES,
    reportsPerDevice: REPORTS,
    cores: os.availableParallelism(),
    logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
    serverBuild: `apps/server/${process.env.BENCH_SERVER_DIST ?? "dist"}`,
    stored: rows.length,
    rejected,
    wallSeconds: round(wallMs / 1000, 2),
    publishSeconds: round((published - t0) / 1000, 2),
    reportsPerSec: round(rows.length / (wallMs / 1000), 1),
    latency: { total: latency(rows.map((r) => r.receivedAt.getTime() - r.sentAt.getTime())), ...Object.fromEntries(Object.entries(byKind).map(([k, xs]) => [k, latency(xs)])) },
    pubAckMs: { p50: round(percentile(pubAckMs, 50)), p95: round(percentile(pubAckMs, 95)) },
    server: {
      cpuPercentOfOneCore: round(((s1.cpuMs - s0.cpuMs) / wallMs) * 100, 1),
      cpuMsPerReport: round((s1.cpuMs - s0.cpuMs) / rows.length, 3),
      rssMB: { before: round(s0.rssBytes / MB, 1), mean: round(rss.reduce((a, b) => a + b, 0) / rss.length, 1), max: round(Math.max(...rss), 1) },
    },
    // the simulated devices (signing, NATS) share the 2 cores with the server, PostgreSQL and nats-server
    benchClientCpuPercentOfOneCore: round(((client.user + client.system) / 1000 / wallMs) * 100, 1),
  };
  progress(
    `${result.stored} stored in ${result.wallSeconds} s = ${result.reportsPerSec} reports/s; latency p50 ${result.latency.total.p50Ms} ms, p95 ${result.latency.total.p95Ms} ms; ` +
      `server ${result.server.cpuPercentOfOneCore} % of a core, ${result.server.cpuMsPerReport} ms CPU/report, RSS max ${result.server.rssMB.max} MB`,
  );
  console.log(`BENCH server-ingest ${JSON.stringify(result)}`);
} finally {
  await Promise.allSettled(devices.map((d) => d.nc.close()));
  await server?.close().catch((err) => console.error(`[server-ingest] server close: ${err.message}`));
  await infra.dispose();
}
