// bench/compatibility-recompute: approving a catalog entry classifies every device of the fleet (device x entry
// DeviceCompatibility rows, packages/catalog computeCompatibility from each device's latest inventory). The fleet
// (BENCH_DEVICES, default 50,000 devices with one inventory each: 8-128 GiB RAM, no GPU or 8/12/24 GiB NVIDIA) is
// inserted with SQL; the real server (dist, in this process) imports the tiny model over REST, the entry is
// approved, and the time until every row exists is measured (the recompute runs after the approval answers).
// The last line is `BENCH compatibility-recompute <json>`.
import path from "node:path";
import { exampleInventory } from "@fleet/protocol";
import { ADMIN_TOKEN, startInfra, startServerInProcess } from "./lib/benchServices.mjs";
import { round } from "./lib/stats.mjs";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50_000);
const TINY = path.resolve("../shared/models/llama-2-tiny-random.gguf");
const progress = (msg) => console.log(`[compatibility-recompute] ${msg}`);
const GIB = 1024 ** 3;

const infra = await startInfra("compat");
let server;
try {
  const db = infra.db.prisma;
  const t0 = Date.now();
  // One statement each: devices, then one inventory per device whose RAM and GPU vary with the device number.
  await db.$executeRawUnsafe(`INSERT INTO "Device" (id, hostname, "publicKeyJwk", "publicKeyThumbprint", "updatedAt")
    SELECT 'bench-' || lpad(i::text, 6, '0'), 'ws-' || i, '{}'::jsonb, 'thumb-' || i, now() FROM generate_series(1, ${DEVICES}) i`);
  const inv = JSON.stringify({ ...exampleInventory, gpus: [], runtime: { nodeLlamaCpp: "3.22.1", llamaCppRelease: "b6000", backends: ["cpu", "cuda"] } });
  await db.$executeRawUnsafe(
    `INSERT INTO "InventorySnapshot" (id, "deviceId", "msgId", "collectedAt", "cpuBrand", "cpuCores", "ramTotalBytes", "ramFreeBytes", "osName", "modelsDirFreeBytes", "hasBattery", data)
    SELECT gen_random_uuid()::text, 'bench-' || lpad(i::text, 6, '0'), gen_random_uuid()::text, now(), 'cpu', 8, ram, ram / 2, 'linux', 0, false,
      jsonb_set(jsonb_set($1::jsonb, '{memory,totalBytes}', to_jsonb(ram)), '{gpus}',
        CASE i % 4 WHEN 0 THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('vendor', 'NVIDIA', 'model', 'RTX', 'vramBytes', (4 + 4 * (i % 4)) * ${GIB}::bigint,
          'vramFreeBytes', null, 'driverVersion', null, 'bus', null)) END)
    FROM (SELECT i, (8 * (1 + i % 16))::bigint * ${GIB}::bigint AS ram FROM generate_series(1, ${DEVICES}) i) s`,
    inv,
  );
  progress(`inserted ${DEVICES} devices with inventories in ${Date.now() - t0} ms`);

  server = await startServerInProcess(infra.env({ FLEET_DATA_DIR: path.join(infra.dir, "data"), LOG_LEVEL: "warn" }), path.join(infra.dir, "server.log"));
  const admin = (p, body) =>
    fetch(server.url + p, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const imported = await admin("/api/v1/catalog/import", {
    name: "tiny", version: "1", source: { repository: "r", revision: "v" }, conversion: { method: "m" }, license: "MIT", path: TINY,
  });
  if (imported.status !== 201) throw new Error(`import: HTTP ${imported.status} ${await imported.text()}`);
  const entry = await imported.json();

  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const approved = await admin(`/api/v1/catalog/${entry.id}/approve`, { reason: "bench" });
  if (approved.status !== 200) throw new Error(`approve: HTTP ${approved.status}`);
  const answeredMs = Date.now() - started;
  let rows = 0;
  const deadline = started + 15 * 60_000;
  while (rows < DEVICES) {
    if (Date.now() > deadline) throw new Error(`only ${rows} of ${DEVICES} rows after 15 minutes`);
    await new Promise((r) => setTimeout(r, 100));
    [{ rows }] = (await db.$queryRawUnsafe(`SELECT count(*)::int AS rows FROM "DeviceCompatibility" WHERE "entryId" = $1`, entry.id)).map((r) => ({ rows: r.rows }));
  }
  const totalMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const classes = await db.$queryRawUnsafe(`SELECT class, count(*)::int AS n FROM "DeviceCompatibility" WHERE "entryId" = $1 GROUP BY class ORDER BY class`, entry.id);
  const result = {
    devices: DEVICES,
    approveAnsweredMs: answeredMs,
    allRowsMs: totalMs,
    rowsPerSec: round((DEVICES / totalMs) * 1000, 0),
    serverProcessCpuMs: round((cpu.user + cpu.system) / 1000, 0),
    classes: Object.fromEntries(classes.map((c) => [c.class, c.n])),
  };
  progress(JSON.stringify(result));
  console.log(`BENCH compatibility-recompute ${JSON.stringify(result)}`);
} finally {
  await server?.close();
  await infra.dispose();
}
