// bench/agent-idle: the idle agent as it ships. A real server (in this process) on a private database and
// nats-server; the built CLI enrolls a device and runs `fleet-agent run` as a child process with production
// intervals and the tiny model; once the model is loaded and the first reports are stored, the agent service
// process and its inference host child are sampled every second (VmRSS, utime+stime from /proc).
// The goal (< 80 MB RSS, < 0.5 % of one core) is compared with the SERVICE process: the host's memory
// is the model's. The last line is `BENCH agent-idle <json>`.
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "../packages/test-utils/dist/index.js";
import { enrollmentToken, startInfra, startServerInProcess } from "./lib/benchServices.mjs";
import { childPids, cmdline } from "./lib/childPids.mjs";
import { procStats } from "./lib/procStats.mjs";
import { round } from "./lib/stats.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, "../apps/agent/dist/cli/main.js");
const TINY = path.resolve(here, "../../shared/models/llama-2-tiny-random.gguf");
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const GOAL_RSS_MB = 80;
const GOAL_CPU_PERCENT = 0.5;
const progress = (msg) => console.log(`[agent-idle] ${msg}`);
const MB = 2 ** 20;

/** Run a CLI command to completion (async: the server answering it lives in this process). */
async function cli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const code = await new Promise((r) => child.once("close", r));
  if (code !== 0) throw new Error(`fleet-agent ${args[0]} exited ${code}: ${out}`);
  return out;
}

/** Count stored reports of one device by kind, optionally only those received in [from, to]. */
async function storedByKind(prisma, deviceId, from, to) {
  const where = { deviceId, ...(from ? { receivedAt: { gte: from, lte: to } } : {}) };
  const rows = await prisma.processedMessage.groupBy({ by: ["kind"], where, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.kind, r._count._all]));
}

const summary = (xs) => ({ mean: round(xs.reduce((a, b) => a + b, 0) / xs.length, 1), max: round(Math.max(...xs), 1), last: round(xs.at(-1), 1) });

const infra = await startInfra("agent-idle");
let server = null;
let agent = null;
try {
  const logFile = path.join(infra.dir, "server.log");
  server = await startServerInProcess(infra.env({ LOG_LEVEL: "warn" }), logFile);
  progress(`server on ${server.url} (in process), private nats ${infra.nats.url}, database ${new URL(infra.db.url).pathname.slice(1)}`);

  const home = path.join(infra.dir, "agent-home");
  await fsp.mkdir(path.join(home, "models"), { recursive: true });
  // Only the API port is set (a free one, so concurrent runs do not collide); every interval is the default.
  const apiPort = await freePort();
  await fsp.writeFile(path.join(home, "config.json"), JSON.stringify({ runtime: { api: { port: apiPort } } }));
  const enrolled = await cli(["enroll", "--server", server.url, "--token", await enrollmentToken(server.url), "--home", home]);
  const state = JSON.parse(await fsp.readFile(path.join(home, "state.json"), "utf8"));
  progress(enrolled.trim().split("\n")[0]);
  await fsp.copyFile(TINY, path.join(home, "models", path.basename(TINY)));

  const agentLog = fs.openSync(path.join(infra.dir, "agent.log"), "a");
  const t0 = Date.now();
  agent = spawn(process.execPath, [CLI, "run", "--home", home], { stdio: ["ignore", agentLog, agentLog] });
  fs.closeSync(agentLog);
  const agentExit = new Promise((r) => agent.once("exit", (code, signal) => r({ code, signal })));
  agentExit.then((e) => agent && !agent.stopping && progress(`agent exited early: ${JSON.stringify(e)}`));

  const health = `http://127.0.0.1:${apiPort}/health`;
  await waitFor(async () => (await fetch(health, { headers: { authorization: `Bearer ${state.localApiToken}` } })).status === 200, "GET /health 200 (model loaded)", 120_000, 250);
  const loadedMs = Date.now() - t0;
  const first = await waitFor(async () => {
    const k = await storedByKind(infra.db.prisma, state.deviceId);
    return k.heartbeat && k.inventory && k.models && k.posture ? k : null;
  }, "first heartbeat, inventory, models and posture stored", 60_000, 250);
  progress(`model loaded after ${loadedMs} ms; first reports stored: ${JSON.stringify(first)}`);

  const children = childPids(agent.pid);
  if (children.length !== 1) throw new Error(`expected one child (the inference host) of the agent, found ${children.length}: ${children.map(cmdline).join(" | ")}`);
  const hostPid = children[0];
  progress(`agent pid ${agent.pid}, inference host pid ${hostPid} (${cmdline(hostPid).slice(0, 120)})`);

  await new Promise((r) => setTimeout(r, 2000)); // let start-up work (first snapshots, hashing) finish
  const from = new Date();
  const a0 = procStats(agent.pid);
  const h0 = procStats(hostPid);
  const w0 = performance.now();
  const agentRss = [];
  const hostRss = [];
  const bothRss = [];
  for (let s = 1; s <= IDLE_SECONDS; s++) {
    await new Promise((r) => setTimeout(r, w0 + s * 1000 - performance.now()));
    const a = procStats(agent.pid).rssBytes / MB;
    const h = procStats(hostPid).rssBytes / MB;
    agentRss.push(a);
    hostRss.push(h);
    bothRss.push(a + h);
    if (s % 10 === 0) progress(`idle ${s}/${IDLE_SECONDS} s: agent ${round(a, 1)} MB, host ${round(h, 1)} MB`);
  }
  const wallMs = performance.now() - w0;
  const a1 = procStats(agent.pid);
  const h1 = procStats(hostPid);
  const to = new Date();
  const cpu = (s0, s1) => ((s1.cpuMs - s0.cpuMs) / wallMs) * 100;
  // replies that were already in flight when the window ended still get stored: give them a moment
  await new Promise((r) => setTimeout(r, 1000));
  const inWindow = await storedByKind(infra.db.prisma, state.deviceId, from, to);

  const agentCpu = cpu(a0, a1);
  const hostCpu = cpu(h0, h1);
  const result = {
    seconds: IDLE_SECONDS,
    samples: agentRss.length,
    cores: os.availableParallelism(),
    loadAvg1mAtEnd: round(os.loadavg()[0]),
    model: path.basename(TINY),
    modelLoadedAfterMs: loadedMs,
    heartbeatIntervalSec: state.heartbeatIntervalSec,
    agent: { rssMB: summary(agentRss), cpuPercentOfOneCore: round(agentCpu, 3) },
    inferenceHost: { rssMB: summary(hostRss), cpuPercentOfOneCore: round(hostCpu, 3) },
    both: { rssMB: summary(bothRss), cpuPercentOfOneCore: round(agentCpu + hostCpu, 3) },
    // the goal is about the agent service process; the host's memory is the loaded model's
    goal: {
      comparedWith: "agent service process",
      rssMB: GOAL_RSS_MB,
      cpuPercentOfOneCore: GOAL_CPU_PERCENT,
      rssMet: Math.max(...agentRss) < GOAL_RSS_MB,
      cpuMet: agentCpu < GOAL_CPU_PERCENT,
    },
    storedDuringWindow: inWindow,
    heartbeatsStored: inWindow.heartbeat ?? 0,
  };
  progress(
    `agent ${result.agent.rssMB.mean} MB mean / ${result.agent.rssMB.max} MB max, ${result.agent.cpuPercentOfOneCore} % CPU (goal < ${GOAL_RSS_MB} MB, < ${GOAL_CPU_PERCENT} %); ` +
      `host ${result.inferenceHost.rssMB.mean} MB, ${result.inferenceHost.cpuPercentOfOneCore} %; ${result.heartbeatsStored} heartbeats stored`,
  );
  console.log(`BENCH agent-idle ${JSON.stringify(result)}`);
} finally {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    agent.stopping = true;
    const gone = new Promise((r) => agent.once("exit", r));
    agent.kill("SIGTERM");
    const timer = setTimeout(() => agent.kill("SIGKILL"), 15_000);
    await gone;
    clearTimeout(timer);
  }
  await server?.close().catch((err) => console.error(`[agent-idle] server close: ${err.message}`));
  await infra.dispose();
}
