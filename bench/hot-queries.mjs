// bench/hot-queries: the console's hot reads at fleet scale. BENCH_DEVICES (default 50,000) devices with one
// inventory each are inserted with SQL (seeded in bulk, not enrolled over HTTP); the real server (dist, in this
// process) approves the tiny model so every device gets a DeviceCompatibility row. Then each hot endpoint is
// requested BENCH_REQUESTS times over HTTP (p50/p95 wall time as the console sees it), and SQL mirroring the
// queries the repositories issue (page of devices + count, latest inventory of that page, one device with its
// inventory history, a page of the compatibility matrix + count) runs under EXPLAIN (ANALYZE, FORMAT JSON) to show
// whether each plan reaches its rows through an index. The SQL is written by hand to match the Prisma queries
// (the ORM's own SQL is not captured). Last line: `BENCH hot-queries <json>`.
import path from "node:path";
import os from "node:os";
import { exampleInventory } from "@fleet/protocol";
import { ADMIN_TOKEN, startInfra, startServerInProcess } from "./lib/benchServices.mjs";
import { percentile } from "./lib/percentile.mjs";
import { machineLoad, describeLoad } from "./lib/machineLoad.mjs";
import { round } from "./lib/stats.mjs";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const TINY = path.resolve("../shared/models/llama-2-tiny-random.gguf");
const GIB = 1024 ** 3;
const progress = (msg) => console.log(`[hot-queries] ${msg}`);
const id = (i) => `bench-${String(i).padStart(6, "0")}`;

const infra = await startInfra("hotq");
let server;
try {
  const db = infra.db.prisma;
  const t0 = Date.now();
  await db.$executeRawUnsafe(`INSERT INTO "Device" (id, hostname, "publicKeyJwk", "publicKeyThumbprint", "updatedAt", "lastSeenAt")
    SELECT 'bench-' || lpad(i::text, 6, '0'), 'ws-' || i, '{}'::jsonb, 'thumb-' || i, now(), now() - (i % 600) * interval '1 second' FROM generate_series(1, ${DEVICES}) i`);
  const inv = JSON.stringify({ ...exampleInventory, gpus: [], runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] } });
  // Three inventories per device (history), RAM 8-128 GiB, no GPU or 8/12/16 GiB NVIDIA.
  await db.$executeRawUnsafe(
    `INSERT INTO "InventorySnapshot" (id, "deviceId", "msgId", "collectedAt", "receivedAt", "cpuBrand", "cpuCores", "ramTotalBytes", "ramFreeBytes", "osName", "modelsDirFreeBytes", "hasBattery", data)
    SELECT gen_random_uuid()::text, 'bench-' || lpad(i::text, 6, '0'), gen_random_uuid()::text, now(), now() - h * interval '1 hour', 'cpu', 8, ram, ram / 2, 'linux', 0, false,
      jsonb_set(jsonb_set($1::jsonb, '{memory,totalBytes}', to_jsonb(ram)), '{gpus}',
        CASE i % 4 WHEN 0 THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('vendor', 'NVIDIA', 'model', 'RTX', 'vramBytes', (4 + 4 * (i % 4)) * ${GIB}::bigint,
          'vramFreeBytes', null, 'driverVersion', null, 'bus', null)) END)
    FROM (SELECT i, (8 * (1 + i % 16))::bigint * ${GIB}::bigint AS ram FROM generate_series(1, ${DEVICES}) i) s, generate_series(0, 2) h`,
    inv,
  );
  await db.$executeRawUnsafe(`ANALYZE`);
  progress(`inserted ${DEVICES} devices with 3 inventories each in ${Date.now() - t0} ms`);

  server = await startServerInProcess(infra.env({ FLEET_DATA_DIR: path.join(infra.dir, "data"), LOG_LEVEL: "warn" }), path.join(infra.dir, "server.log"));
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const post = (p, body) => fetch(server.url + p, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
  const imported = await post("/api/v1/catalog/import", { name: "tiny", version: "1", source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY });
  if (imported.status !== 201) throw new Error(`import: HTTP ${imported.status} ${await imported.text()}`);
  const entry = await imported.json();
  const approved = await post(`/api/v1/catalog/${entry.id}/approve`, { reason: "bench" });
  if (approved.status !== 200) throw new Error(`approve: HTTP ${approved.status}`);
  const deadline = Date.now() + 10 * 60_000;
  for (let rows = 0; rows < DEVICES; ) {
    if (Date.now() > deadline) throw new Error(`only ${rows} of ${DEVICES} compatibility rows after 10 minutes`);
    await new Promise((r) => setTimeout(r, 500));
    rows = (await db.$queryRawUnsafe(`SELECT count(*)::int AS n FROM "DeviceCompatibility" WHERE "entryId" = $1`, entry.id))[0].n;
  }
  await db.$executeRawUnsafe(`ANALYZE`);
  progress(`compatibility matrix filled (${DEVICES} rows) after ${Date.now() - t0} ms`);

  const load = await machineLoad();
  progress(`machine while measuring: ${describeLoad(load)}`);
  const mid = id(Math.ceil(DEVICES / 2));
  const endpoints = {
    devicesList: (n) => `/api/v1/devices?page=${1 + (n % 20)}&pageSize=50`,
    deviceDetail: (n) => `/api/v1/devices/${id(1 + ((n * 7919) % DEVICES))}`,
    compatibilityMatrix: (n) => `/api/v1/compatibility?entryId=${entry.id}&page=${1 + (n % 20)}&pageSize=100`,
  };
  const sql = {
    devicesList: [
      [`SELECT * FROM "Device" WHERE TRUE ORDER BY hostname ASC, id ASC LIMIT 50 OFFSET 500`],
      [`SELECT count(*) FROM "Device"`],
      [`SELECT s.* FROM "Device" d CROSS JOIN LATERAL (SELECT * FROM "InventorySnapshot" i WHERE i."deviceId" = d.id ORDER BY i."receivedAt" DESC LIMIT 1) s
        WHERE d.id = ANY($1)`, Array.from({ length: 50 }, (_, k) => id(1 + k * 97))],
    ],
    deviceDetail: [
      [`SELECT * FROM "Device" WHERE id = $1`, mid],
      [`SELECT * FROM "InventorySnapshot" WHERE "deviceId" = $1 ORDER BY "receivedAt" DESC LIMIT 20`, mid],
    ],
    compatibilityMatrix: [
      [`SELECT c.*, d.hostname FROM "DeviceCompatibility" c JOIN "Device" d ON d.id = c."deviceId"
        WHERE c."entryId" = $1 AND d.state = 'active' ORDER BY c."entryId", c."deviceId" LIMIT 100 OFFSET 1000`, entry.id],
      [`SELECT count(*) FROM "DeviceCompatibility" c JOIN "Device" d ON d.id = c."deviceId" WHERE c."entryId" = $1 AND d.state = 'active'`, entry.id],
    ],
  };
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
    for (const [text, ...args] of sql[name]) {
      const [{ "QUERY PLAN": plan }] = await db.$queryRawUnsafe(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, ...args);
      const nodes = [];
      const walk = (p) => { nodes.push({ type: p["Node Type"], rel: p["Relation Name"], index: p["Index Name"] }); for (const c of p.Plans ?? []) walk(c); };
      walk(plan[0].Plan);
      plans.push({
        ms: round(plan[0]["Execution Time"], 2),
        indexes: [...new Set(nodes.filter((x) => x.index).map((x) => x.index))],
        seqScans: [...new Set(nodes.filter((x) => x.type === "Seq Scan").map((x) => x.rel))],
      });
    }
    // usesIndex: no plan of this endpoint scans a whole table; pageUsesIndex: the rows-returning query (the first) reaches
    // its rows through an index (exact totals over the whole fleet can still scan).
    const usesIndex = plans.every((p) => p.indexes.length > 0 && p.seqScans.length === 0);
    const pageUsesIndex = plans[0].indexes.length > 0 && plans[0].seqScans.length === 0;
    results[name] = { p50Ms: round(percentile(times, 50), 1), p95Ms: round(percentile(times, 95), 1), usesIndex, pageUsesIndex, plans };
    progress(`${name}: ${JSON.stringify(results[name])}`);
  }
  const machine = `${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}, ${round(os.totalmem() / GIB, 1)} GiB RAM, loadavg ${os.loadavg().map((x) => x.toFixed(1)).join("/")}`;
  console.log(`\n| query | p50 ms | p95 ms | plans use an index | seq scans |`);
  console.log(`|---|---|---|---|---|`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`| ${name} | ${r.p50Ms} | ${r.p95Ms} | ${r.usesIndex ? "yes" : "no"} (${r.plans.flatMap((p) => p.indexes).join(", ")}) | ${r.plans.flatMap((p) => p.seqScans).join(", ") || "none"} |`);
  }
  console.log(`machine: ${machine} (shared with other work: numbers measured under contention)\n`);
  const bench = { devices: DEVICES, requests: REQUESTS, machine, ...Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { p95Ms: r.p95Ms, usesIndex: r.usesIndex, pageUsesIndex: r.pageUsesIndex }])) };
  console.log(`BENCH hot-queries ${JSON.stringify(bench)}`);
} finally {
  await server?.close();
  await infra.dispose();
}
