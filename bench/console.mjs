// `pnpm bench console`: the devices list at fleet scale. Seeds BENCH_DEVICES (default 50,000) devices with
// inventories, GPUs and installed models by bulk SQL into a private database, starts the real server (child
// process) and the built console (`next start`), signs in as an admin created through the users API, and measures
//   - GET /api/v1/devices with the session as Bearer (first page, a late page, sorts, filters): p50/p95 per case,
//   - the /devices page in headless Chromium (navigation until the table's first row is visible after load): median,
//   - EXPLAIN (ANALYZE, BUFFERS) of the SQL the server sends for each of those requests (page and total, from the
//     server's own SQL builder apps/server/dist/devices/devices-list.sql.js), index or not.
// Last line: BENCH console {"devices":N,"apiP95Ms":worst case p95,"pageMs":median of /devices,...}
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { ADMIN_TOKEN, startInfra, startServerChild } from "./lib/benchServices.mjs";
import { waitForCommandConsumers } from "./lib/commandConsumers.mjs";
import { seedDevices, touchOnlineDevices } from "./lib/seedDevices.mjs";
import { describePlan, explain, listStatements, onlineCutoff } from "./lib/devicesListSql.mjs";
import { machineLoad, describeLoad } from "./lib/machineLoad.mjs";
import { percentile } from "./lib/percentile.mjs";
import { freePort, waitFor } from "../packages/test-utils/dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CONSOLE_DIR = path.resolve(here, "../apps/console");
const NEXT_BIN = path.join(CONSOLE_DIR, "node_modules/.bin/next");
const N = Number(process.env.BENCH_DEVICES ?? 50_000);
const API_REPS = Number(process.env.BENCH_API_REPS ?? 30);
const PAGE_RUNS = Number(process.env.BENCH_PAGE_RUNS ?? 5);
if (!Number.isInteger(N) || N < 100) throw new Error(`BENCH_DEVICES must be an integer >= 100, got ${process.env.BENCH_DEVICES}`);

const log = (...a) => console.log("[console]", ...a);
const round = (x) => Math.round(x * 10) / 10;
const median = (xs) => percentile(xs, 50);

function machine() {
  return `${os.cpus()[0]?.model ?? "?"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}`;
}

/** `next build` of the console unless .next/BUILD_ID is newer than its sources (as the e2e harness decides). */
function ensureConsoleBuilt() {
  const buildId = path.join(CONSOLE_DIR, ".next/BUILD_ID");
  let newest = 0;
  const walk = (p) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) e !== "node_modules" && e !== ".next" && walk(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  ["app", "lib", "ui", "next.config.ts", "package.json"].forEach((p) => walk(path.join(CONSOLE_DIR, p)));
  walk(path.resolve(here, "../packages/protocol/dist"));
  if (fs.existsSync(buildId) && fs.statSync(buildId).mtimeMs >= newest) return log("console build is fresh");
  log("building the console (next build)…");
  const r = spawnSync(NEXT_BIN, ["build"], { cwd: CONSOLE_DIR, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (r.status !== 0) throw new Error("next build failed");
}

async function startConsole(serverUrl, eventsToken) {
  const port = await freePort();
  const { FLEET_ADMIN_TOKEN: _none, ...env } = process.env;
  const proc = spawn(NEXT_BIN, ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: CONSOLE_DIR,
    env: { ...env, NEXT_TELEMETRY_DISABLED: "1", FLEET_SERVER_URL: serverUrl, FLEET_EVENTS_TOKEN: eventsToken, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout.on("data", (d) => (output = (output + d).slice(-4000)));
  proc.stderr.on("data", (d) => (output = (output + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`next start exited ${proc.exitCode}: ${output}`);
    return (await fetch(`${url}/favicon.ico`).catch(() => null)) !== null;
  }, "next start to listen", 60_000);
  return {
    url,
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** An admin user (POST /api/v1/users with the admin token, then its one-time setup link) and its session. */
async function createAdmin(serverUrl) {
  const created = await fetch(`${serverUrl}/api/v1/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ email: `bench-admin-${process.pid}@example.test`, name: "Bench Admin", role: "admin" }),
  });
  if (created.status !== 201) throw new Error(`create user: HTTP ${created.status} ${await created.text()}`);
  const token = new URL((await created.json()).setupUrl).searchParams.get("token");
  const setup = await fetch(`${serverUrl}/api/v1/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, password: `pw-${randomUUID()}` }),
  });
  if (setup.status !== 200) throw new Error(`setup: HTTP ${setup.status} ${await setup.text()}`);
  return (await setup.json()).token;
}

async function measureApi(serverUrl, session, cases) {
  const out = {};
  for (const [name, qs] of Object.entries(cases)) {
    const get = async () => {
      const t0 = performance.now();
      const res = await fetch(`${serverUrl}/api/v1/devices?${qs}`, { headers: { authorization: `Bearer ${session}` } });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t0, rows: body.items?.length ?? body.devices?.length ?? NaN, total: body.total };
    };
    await get(); // warm-up (plan cache, connections)
    const times = [];
    let last;
    for (let i = 0; i < API_REPS; i++) {
      last = await get();
      times.push(last.ms);
    }
    out[name] = { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)), rows: last.rows, total: last.total };
    log(`api ${name.padEnd(14)} ?${qs.padEnd(36)} p50 ${out[name].p50} ms  p95 ${out[name].p95} ms  (${API_REPS} req; ${out[name].rows} rows of ${out[name].total})`);
  }
  return out;
}

async function measurePage(consoleUrl, session, pages, beforeEach = async () => {}) {
  const require = createRequire(path.join(CONSOLE_DIR, "package.json"));
  const playwright = await import(require.resolve("playwright-core"));
  const chromium = playwright.chromium ?? playwright.default.chromium;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext();
    // the cookie the console's sign-in sets (httpOnly, SameSite=Lax), holding the session from the setup
    await context.addCookies([{ name: "fleet_session", value: session, url: consoleUrl, httpOnly: true, sameSite: "Lax" }]);
    const page = await context.newPage();
    const out = {};
    for (const [name, pathQs] of Object.entries(pages)) {
      await beforeEach();
      const times = [];
      for (let i = 0; i <= PAGE_RUNS; i++) {
        const t0 = performance.now();
        await page.goto(`${consoleUrl}${pathQs}`, { waitUntil: "load", timeout: 60_000 });
        await page
          .locator("table tbody tr")
          .first()
          .waitFor({ state: "visible", timeout: 60_000 })
          .catch(async (err) => {
            throw new Error(`${name}: no table row on ${pathQs}; the page says: ${(await page.locator("main").innerText().catch(() => "?")).slice(0, 400)}`, { cause: err });
          });
        const ms = performance.now() - t0;
        if (new URL(page.url()).pathname !== "/devices") throw new Error(`not signed in: landed on ${page.url()}`);
        if (i > 0) times.push(ms); // first run warms Next's caches
      }
      const rows = await page.locator("table tbody tr").count();
      out[name] = { medianMs: round(median(times)), minMs: round(Math.min(...times)), maxMs: round(Math.max(...times)), rows };
      log(`page ${name.padEnd(14)} ${pathQs.padEnd(44)} median ${out[name].medianMs} ms (min ${out[name].minMs}, max ${out[name].maxMs}; ${PAGE_RUNS} runs; ${rows} rows)`);
    }
    return out;
  } finally {
    await browser.close();
  }
}

log(`machine: ${machine()}`);
const before = await machineLoad();
log(`before: ${describeLoad(before)} (shared machine: other helpers' builds and tests run at the same time)`);
ensureConsoleBuilt();

const infra = await startInfra("console");
let server;
let consoleApp;
try {
  const t0 = performance.now();
  await seedDevices(infra.db.url, N, (done, n) => log(`seeded ${done}/${n} devices`));
  const seedSec = round((performance.now() - t0) / 1000);
  log(`seeded ${N} devices in ${seedSec} s (+ ANALYZE)`);

  const eventsToken = `events-${randomUUID()}`;
  server = await startServerChild(infra.env({ LOG_LEVEL: "warn", FLEET_EVENTS_TOKEN: eventsToken }), path.join(infra.dir, "server.log"));
  log(`server ${server.url}`);
  // the seeded devices' command consumers, created by the server's start-up check: not measured alongside the console
  const active = (await infra.db.prisma.$queryRawUnsafe(`SELECT count(*)::int AS n FROM "Device" WHERE state = 'active'`))[0].n;
  log(`command consumers of the ${active} active devices created by the server in ${round(await waitForCommandConsumers(infra.nats, active, { progress: log }))} s`);
  const session = await createAdmin(server.url);
  consoleApp = await startConsole(server.url, eventsToken);
  log(`console ${consoleApp.url}`);

  const latePage = Math.max(2, Math.floor(N / 50 / 2));
  // the online cohort is kept online between phases (as heartbeats would), so status=online is never empty
  log(`online cohort refreshed: ${await touchOnlineDevices(infra.db.url)} devices`);
  const apiCases = {
    first: "page=1",
    late: `page=${latePage}`,
    hostnameDesc: "sort=-hostname",
    lastSeenDesc: "sort=-lastSeenAt",
    lastSeenLate: `sort=lastSeenAt&page=${latePage}`,
    online: "status=online",
    neverSeen: "status=never_seen",
    gpuNvidia: "gpuVendor=nvidia",
    q: "q=ws-00012",
    combined: "status=offline&gpuVendor=amd&sort=-lastSeenAt",
  };
  const api = await measureApi(server.url, session, apiCases);
  // the online cohort is refreshed before each page case (a case takes up to a minute on a loaded machine)
  const pages = await measurePage(consoleApp.url, session, {
    first: "/devices",
    lateLastSeen: `/devices?sort=-lastSeenAt&page=${latePage}`,
    filtered: "/devices?status=online&gpuVendor=nvidia",
  }, () => touchOnlineDevices(infra.db.url));

  log("EXPLAIN (ANALYZE, BUFFERS) of the SQL the server sends for each request above (page, then total; a total is counted when its filter is first asked for, then reused 5 s):");
  await touchOnlineDevices(infra.db.url);
  const client = new pg.Client({ connectionString: infra.db.url });
  await client.connect();
  const plans = [];
  try {
    const cutoff = onlineCutoff();
    for (const [name, qs] of Object.entries(apiCases)) {
      const { page, count } = listStatements(qs, cutoff);
      for (const [part, st] of [["page", page], ["count", count]]) {
        const p = await explain(client, `${name} ${part}`, st);
        plans.push(p);
        log(`  ${describePlan(p)}`);
      }
    }
  } finally {
    await client.end();
  }

  const after = await machineLoad();
  log(`after: ${describeLoad(after)}`);
  const apiP95Ms = Math.max(...Object.values(api).map((c) => c.p95));
  const result = {
    devices: N,
    apiP95Ms,
    pageMs: pages.first.medianMs,
    apiP50FirstMs: api.first.p50,
    api: Object.fromEntries(Object.entries(api).map(([k, v]) => [k, { p50: v.p50, p95: v.p95 }])),
    page: Object.fromEntries(Object.entries(pages).map(([k, v]) => [k, v.medianMs])),
    noIndex: plans.filter((p) => !p.usesIndex).map((p) => p.name),
    seqScanOf: Object.fromEntries(plans.filter((p) => p.seqScans.length).map((p) => [p.name, p.seqScans.join(",")])),
    explainMs: Object.fromEntries(plans.map((p) => [p.name, p.ms])),
    seedSec,
    machine: machine(),
    loadBefore: before.loadavg,
    loadAfter: after.loadavg,
    contended: true,
  };
  console.log(`BENCH console ${JSON.stringify(result)}`);
} finally {
  await consoleApp?.stop().catch(() => undefined);
  await server?.close().catch(() => undefined);
  await infra.dispose();
}
