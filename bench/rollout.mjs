// bench/rollout: staged rollout delivery through the real server (its own process, production config) on a private
// database and nats-server (decentralized auth, 127.0.0.1 only). 10,000 simulated devices (BENCH_DEVICES) share a
// few NATS connections (BENCH_CONNECTIONS, 4); each subscribes to its own key of the assignment bucket and verifies
// every assignment it receives with openAssignment (server key, its own device id, its own persisted version).
// Setup, not measured: devices, catalog entries and compatibility rows are inserted into the database directly
// (10,000 REST enrollments would measure enrollment, not rollouts).
// assignMs: POST /api/v1/rollouts of a one-ring (100 %) rollout until every device has read and verified its
// assignment. completeMs: POST of a 3-ring rollout (1 % / 10 % / 100 %, 1 s soaks) until the server marks it
// completed; each device "installs" for a random 50-400 ms after reading its assignment, then sends a signed
// "update" report (active). The last line is `BENCH rollout <json>`.
import { randomUUID } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestDatabase } from "../prisma/dist/testing.js";
import { startNatsServer } from "../packages/test-utils/dist/index.js";
import { generateSigningKeyPair, importPrivateJwk, importPublicJwk, openAssignment, signReport, subjects, serverKeySha256 } from "@fleet/protocol";
import { ADMIN_TOKEN, importFromServer, startServerChild } from "./lib/benchServices.mjs";
import { benchCatalogEntry } from "./lib/sim/rollout.mjs";
import { procStats } from "./lib/procStats.mjs";
import { round } from "./lib/stats.mjs";

const N = Number(process.env.BENCH_DEVICES ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const TIME_LIMIT_MS = Number(process.env.BENCH_TIME_LIMIT_MS ?? 300_000);
const BUCKET = "FLEET_ASSIGNMENTS";
const progress = (msg) => console.log(`[rollout] ${msg}`);
const { connect, Empty } = await importFromServer("nats");
const MB = 2 ** 20;

const deadline = setTimeout(() => {
  console.error(`[rollout] over the time limit of ${TIME_LIMIT_MS / 1000} s: giving up`);
  process.exit(1);
}, TIME_LIMIT_MS);
deadline.unref();

async function waitUntil(fn, what, timeoutMs = 120_000, everyMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const [db, nats, dir] = await Promise.all([createTestDatabase(), startNatsServer(), fsp.mkdtemp(path.join(os.tmpdir(), "bench-rollout-"))]);
const prisma = db.prisma;
let server = null;
const conns = [];
try {
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    PORT: "0",
    FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
    FLEET_SERVER_KEY_FILE: path.join(dir, "server-key.json"),
    ...(nats.keysFile ? { FLEET_NATS_KEYS_FILE: nats.keysFile } : {}),
    FLEET_ASSIGNMENT_BUCKET: BUCKET,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
  };
  server = await startServerChild(env, path.join(dir, "server.log"), process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []);
  progress(`server pid ${server.pid} on ${server.url}; machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model}), ${round(os.totalmem() / 2 ** 30, 1)} GiB RAM`);
  const serverJwk = JSON.parse(await fsp.readFile(env.FLEET_SERVER_KEY_FILE, "utf8"));
  const serverKey = await importPublicJwk({ kty: "OKP", crv: "Ed25519", x: serverJwk.x });

  // --- setup: devices with their own keys, straight into the database ---
  const t0setup = performance.now();
  const devices = [];
  for (let i = 0; i < N; i++) {
    const { publicJwk, privateJwk } = await generateSigningKeyPair();
    devices.push({ id: `bench-${String(i).padStart(5, "0")}-${randomUUID().slice(0, 8)}`, publicJwk, key: await importPrivateJwk(privateJwk), version: 0, seq: 0, readAt: new Map() });
  }
  for (let i = 0; i < N; i += 2000) {
    const part = devices.slice(i, i + 2000);
    await prisma.device.createMany({
      data: await Promise.all(part.map(async (d, k) => ({ id: d.id, hostname: `ws-${i + k}`, publicKeyJwk: d.publicJwk, publicKeyThumbprint: await serverKeySha256(d.publicJwk), labels: { group: "bench" } }))),
    });
  }
  const [a, b] = [await benchCatalogEntry(prisma, "bench-a", 1_750_560), await benchCatalogEntry(prisma, "bench-b", 1_750_560)];
  for (const e of [a, b]) {
    for (let i = 0; i < N; i += 5000) {
      await prisma.deviceCompatibility.createMany({ data: devices.slice(i, i + 5000).map((d) => ({ deviceId: d.id, entryId: e.id, class: "cpu-only", gpuLayers: 0, totalLayers: 32, hardwareClass: "ram-16g/gpu-none" })) });
    }
  }
  progress(`${N} devices, 2 entries, ${2 * N} compatibility rows inserted in ${round((performance.now() - t0setup) / 1000, 1)} s`);

  // --- devices: a few shared connections, one subscription per device key ---
  const subj = subjects();
  for (let c = 0; c < CONNECTIONS; c++) conns.push(await connect({ ...nats.connectOptions(), servers: nats.url, name: `bench-devices-${c}` }));
  let installs = null; // set for the 3-ring rollout: an install of any rollout but the first is "installed", then reported
  const refused = [];
  let reportsSent = 0;
  const enc = new TextEncoder();
  const handle = async (d, data) => {
    const opened = await openAssignment(data, serverKey, { deviceId: d.id, minVersionExclusive: d.version });
    if (!opened.ok) {
      refused.push(opened.reason);
      return;
    }
    const asg = opened.value;
    d.version = asg.version; // persisted by a real agent before acting
    d.readAt.set(asg.rolloutId, performance.now());
    if (installs && asg.rolloutId !== installs.notRollout && asg.action === "install") {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 350));
      const report = {
        v: 1, kind: "update", deviceId: d.id, msgId: randomUUID(), seq: d.seq++, sentAt: new Date().toISOString(),
        body: {
          at: new Date().toISOString(), assignmentVersion: asg.version, rolloutId: asg.rolloutId, target: asg.desired.target, sha256: asg.desired.sha256, state: "active",
          bytesDone: asg.desired.length, bytesTotal: asg.desired.length, code: null, reason: null,
          selfTest: { ok: true, loadMs: 120, outputTokens: 16, tokensPerSecond: 40, error: null }, serving: { model: asg.desired.target, sha256: asg.desired.sha256 },
        },
      };
      const js = conns[d.conn].jetstream();
      await js.publish(subj.report(d.id, "update"), enc.encode(await signReport(report, d.key)), { msgID: report.msgId });
      reportsSent++;
    }
  };
  devices.forEach((d, i) => {
    d.conn = i % CONNECTIONS;
    conns[d.conn].subscribe(`$KV.${BUCKET}.${d.id}`, { callback: (err, msg) => (!err && msg.data.length ? handle(d, msg.data).catch((e) => refused.push(e.message)) : undefined) });
  });
  await Promise.all(conns.map((c) => c.flush()));
  // Nothing assigned yet: a direct get of one key answers "no message".
  const empty = await conns[0].request(`$JS.API.DIRECT.GET.KV_${BUCKET}.$KV.${BUCKET}.${devices[0].id}`, Empty, { timeout: 5000 }).catch(() => null);
  progress(`${N} devices subscribed over ${CONNECTIONS} connections${empty ? "" : " (bucket not reachable yet)"}`);

  const admin = (p, body) => fetch(`${server.url}${p}`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const get = async (p) => (await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();

  // --- assignMs: one ring, every device ---
  const s0 = procStats(server.pid);
  const ta = performance.now();
  const resA = await admin("/api/v1/rollouts", { entryId: a.id, group: "bench", rings: [{ name: "all", percent: 100, soakSec: 3600 }] });
  if (resA.status !== 201) throw new Error(`create rollout: HTTP ${resA.status} ${await resA.text()}`);
  const ra = await resA.json();
  const createdMs = performance.now() - ta;
  await waitUntil(() => devices.every((d) => d.readAt.has(ra.id)), "every device read its assignment", 120_000, 5);
  const assignMs = Math.max(...devices.map((d) => d.readAt.get(ra.id))) - ta;
  const s1 = procStats(server.pid);
  progress(`assign: ${N} devices read and verified their assignment ${round(assignMs)} ms after "start rollout" (POST answered after ${round(createdMs)} ms); server CPU ${round(s1.cpuMs - s0.cpuMs)} ms`);
  const pause = await admin(`/api/v1/rollouts/${ra.id}/pause`, { reason: "bench: next rollout" });
  if (pause.status !== 200) throw new Error(`pause: HTTP ${pause.status}`);

  // --- completeMs: 3 rings with simulated installs and short soaks ---
  const gates = { maxFailureRate: 0, minSuccesses: 1, minLoadSuccessRate: 1, maxErrorRate: 0.05, minTokensPerSecRatio: null };
  const rings = [
    { name: "canary", percent: 1, soakSec: 1, gates },
    { name: "early", percent: 10, soakSec: 1, gates },
    { name: "broad", percent: 100, soakSec: 0, gates },
  ];
  installs = { notRollout: ra.id };
  const tb = performance.now();
  const resB = await admin("/api/v1/rollouts", { entryId: b.id, group: "bench", rings });
  if (resB.status !== 201) throw new Error(`create rollout: HTTP ${resB.status} ${await resB.text()}`);
  const rb = await resB.json();
  let last = 0;
  const done = await waitUntil(async () => {
    const r = await get(`/api/v1/rollouts/${rb.id}`);
    if (performance.now() - last > 5000) {
      last = performance.now();
      progress(`ring ${r.currentRing}: ${r.totals.active} active, ${r.totals.pending} pending, ${r.totals.waiting} waiting; ${reportsSent} reports sent, ${refused.length} refused ${[...new Set(refused)].slice(0, 3).join(", ")}`);
    }
    return r.state === "completed" || r.state === "paused" ? r : null;
  }, "3-ring rollout completed", 240_000, 100);
  const completeMs = performance.now() - tb;
  if (done.state !== "completed") throw new Error(`rollout ${done.state}: ${done.reason}`);
  const s2 = procStats(server.pid);
  const ringStarts = done.rings.map((r) => round((Date.parse(r.startedAt) - Date.parse(done.createdAt)) / 1000, 2));
  const adoption = await get(`/api/v1/rollouts/${rb.id}/adoption`);
  const result = {
    devices: N,
    assignMs: round(assignMs),
    completeMs: round(completeMs),
    machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? null, ramGiB: round(os.totalmem() / 2 ** 30, 1) },
    natsConnections: CONNECTIONS,
    createResponseMs: round(createdMs),
    refused: refused.length,
    reportsSent,
    active: done.totals.active,
    ringStartSec: ringStarts,
    timeToActiveSec: adoption.timeToActiveSec,
    serverCpuMs: { assign: round(s1.cpuMs - s0.cpuMs), complete: round(s2.cpuMs - s1.cpuMs) },
    serverRssMB: round(s2.rssBytes / MB, 1),
  };
  if (refused.length) progress(`refused: ${[...new Set(refused)].join(", ")}`);
  progress(`complete: 3 rings, ${done.totals.active} active in ${round(completeMs)} ms`);
  console.log(`BENCH rollout ${JSON.stringify({ devices: result.devices, assignMs: result.assignMs, completeMs: result.completeMs, ...result })}`);
} finally {
  if (process.env.BENCH_SHOW_LOG) console.log(await fsp.readFile(path.join(dir, "server.log"), "utf8").catch(() => ""));
  await Promise.allSettled(conns.map((c) => c.close()));
  await server?.close().catch((err) => console.error(`[rollout] server close: ${err.message}`));
  await Promise.allSettled([db.drop(), nats.dispose()]);
  await fsp.rm(dir, { recursive: true, force: true });
}
