// bench/hot-queries: the console's hot reads at fleet scale. BENCH_DEVICES (default 50,000) devices with three
// inventories each are inserted with SQL by the shared seeder (bench/lib/seedDevices.mjs, as `pnpm bench console`;
// seeded in bulk, not enrolled over HTTP; 5% revoked); the real server (dist, in this process) approves the tiny model
// so every active device gets a DeviceCompatibility row. Then each hot endpoint is requested BENCH_REQUESTS times over
// HTTP (p50/p95 wall time as the console sees it), and the SQL the server sends for it runs under EXPLAIN (ANALYZE,
// BUFFERS): the list's and the matrix's statements from the server's own SQL builders, the detail's as captured from
// the server's repository through Prisma's query events (bench/lib/devicesListSql.mjs). Last line:
// `BENCH hot-queries <json>`.
import path from "node:path";
import os from "node:os";
import pg from "pg";
import { exampleInventory } from "@fleet/protocol";
import { ADMIN_TOKEN, startInfra, startServerInProcess } from "./lib/benchServices.mjs";
import { seedDevices } from "./lib/seedDevices.mjs";
import { waitForCommandConsumers } from "./lib/commandConsumers.mjs";
import { describePlan, detailStatements, explain, listStatements, matrixCountSql, matrixPageSql } from "./lib/devicesListSql.mjs";
import { percentile } from "./lib/percentile.mjs";
import { machineLoad, describeLoad } from "./lib/machineLoad.mjs";
import { round } from "./lib/stats.mjs";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const TINY = path.resolve("../shared/models/llama-2-tiny-random.gguf");
const GIB = 1024 ** 3;
const progress = (msg) => console.log(`[hot-queries] ${msg}`);
const id = (i) => `dev-${String(i).padStart(7, "0")}`; // the seeder's ids

const infra = await startInfra("hotq");
let server;
try {
  const db = infra.db.prisma;
  const before = await machineLoad();
  progress(`machine before: ${describeLoad(before)} (shared machine: other sessions' builds and tests run at the same time)`);
  const t0 = Date.now();
  const inventory = { ...exampleInventory, gpus: [], runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] } };
  await seedDevices(infra.db.url, DEVICES, () => {}, { inventory, snapshots: 3 });
  const active = (await db.$queryRawUnsafe(`SELECT count(*)::int AS n FROM "Device" WHERE state = 'active'`))[0].n;
  progress(`seeded ${DEVICES} devices (${active} active) with 3 inventories each in ${Date.now() - t0} ms`);

  server = await startServerInProcess(infra.env({ FLEET_DATA_DIR: path.join(infra.dir, "data"), LOG_LEVEL: "warn" }), path.join(infra.dir, "server.log"));
  // the seeded devices' command consumers, created by the server's start-up check: not measured alongside the queries
  const consumerSec = await waitForCommandConsumers(infra.nats, active, { progress });
  progress(`command consumers of the ${active} active devices created by the server in ${Math.round(consumerSec)} s`);
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const post = (p, body) => fetch(server.url + p, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
  const imported = await post("/api/v1/catalog/import", { name: "tiny", version: "1", source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY });
  if (imported.status !== 201) throw new Error(`import: HTTP ${imported.status} ${await imported.text()}`);
  const entry = await imported.json();
  const approved = await post(`/api/v1/catalog/${entry.id}/approve`, { reason: "bench" });
  if (approved.status !== 200) throw new Error(`approve: HTTP ${approved.status}`);
  const deadline = Date.now() + 10 * 60_000;
  for (let rows = 0; rows < active; ) {
    if (Date.now() > deadline) throw new Error(`only ${rows} of ${active} compatibility rows after 10 minutes`);
    await new Promise((r) => setTimeout(r, 500));
    rows = (await db.$queryRawUnsafe(`SELECT count(*)::int AS n FROM "DeviceCompatibility" WHERE "entryId" = $1`, entry.id))[0].n;
  }
  await db.$executeRawUnsafe(`ANALYZE`);
  progress(`compatibility matrix filled (${active} rows) after ${Date.now() - t0} ms`);

  const load = await machineLoad();
  progress(`machine while measuring: ${describeLoad(load)}`);
  const mid = id(Math.ceil(DEVICES / 2) + 1); // active (every 20th is revoked)
  const endpoints = {
    devicesList: (n) => `/api/v1/devices?page=${1 + (n % 20)}&pageSize=50`,
    deviceDetail: (n) => `/api/v1/devices/${id(1 + ((n * 7919) % DEVICES))}`,
    compatibilityMatrix: (n) => `/api/v1/compatibility?entryId=${entry.id}&page=${1 + (n % 20)}&pageSize=100`,
  };
  // the statements the server sends for one request of each endpoint (a page in the middle of the requested ones)
  const sql = {
    devicesList: Object.entries(listStatements("page=10&pageSize=50")).map(([k, st]) => [`list ${k}`, st]),
    deviceDetail: (await detailStatements(infra.db.url, mid)).map((st) => [`detail ${st.text.match(/FROM "public"\."(\w+)"/)?.[1] ?? "?"}`, st]),
    compatibilityMatrix: [
      ["matrix page", matrixPageSql({ entryId: entry.id, page: 10, pageSize: 100 })],
      ["matrix count", matrixCountSql({ entryId: entry.id, page: 10, pageSize: 100 })],
    ],
  };
  const client = new pg.Client({ connectionString: infra.db.url });
  await client.connect();
  const results = {};
  for (const [name, url] of Object.entries(endpoints)) {
    const times = [];
    for (let n = 0; n < REQUESTS; n++) {
      const t = performance.now();
      const r = await fetch(server.url + url(n), { headers: auth });
      if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
      times.push(performance.now() - t);
    }
    const plans = [];
    for (const [label, st] of sql[name]) plans.push(await explain(client, label, st));
    // a total is counted when its filter is first asked for and reused 5 s (TotalsCache), so most requests skip it
    for (const p of plans) progress(`  ${describePlan(p)}`);
    // usesIndex: every statement of this endpoint reads through an index; seqScans: tables some statement reads whole
    const usesIndex = plans.every((p) => p.usesIndex);
    const pageUsesIndex = plans[0].usesIndex;
    results[name] = { p50Ms: round(percentile(times, 50), 1), p95Ms: round(percentile(times, 95), 1), usesIndex, pageUsesIndex, plans };
    progress(`${name}: p50 ${results[name].p50Ms} ms, p95 ${results[name].p95Ms} ms (${REQUESTS} requests)`);
  }
  await client.end();
  const after = await machineLoad();
  progress(`machine after: ${describeLoad(after)}`);
  const machine = `${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}, ${round(os.totalmem() / GIB, 1)} GiB RAM`;
  console.log(`\n| query | p50 ms | p95 ms | plans use an index | seq scans |`);
  console.log(`|---|---|---|---|---|`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`| ${name} | ${r.p50Ms} | ${r.p95Ms} | ${r.usesIndex ? "yes" : "no"} (${[...new Set(r.plans.flatMap((p) => p.indexes))].join(", ")}) | ${r.plans.flatMap((p) => p.seqScans).join(", ") || "none"} |`);
  }
  console.log(`machine: ${machine} (shared with other work: numbers measured under contention)\n`);
  const bench = {
    devices: DEVICES,
    requests: REQUESTS,
    machine,
    loadBefore: before.loadavg,
    loadAfter: after.loadavg,
    contended: true,
    ...Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { p50Ms: r.p50Ms, p95Ms: r.p95Ms, usesIndex: r.usesIndex, pageUsesIndex: r.pageUsesIndex, explainMs: r.plans.map((p) => p.ms), seqScans: r.plans.flatMap((p) => p.seqScans) }])),
  };
  console.log(`BENCH hot-queries ${JSON.stringify(bench)}`);
} finally {
  await server?.close();
  await infra.dispose();
}
