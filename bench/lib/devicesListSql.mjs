// EXPLAIN (ANALYZE, BUFFERS) of the SQL the server really sends for its hot reads, for `pnpm bench console` and
// `pnpm bench hot-queries`:
//   - the devices list and the compatibility matrix are raw SQL built by apps/server/dist/devices/devices-list.sql.js
//     and apps/server/dist/compatibility/compatibility-matrix.sql.js: the benches import those builders, so the text
//     and parameters explained are exactly the server's;
//   - a device's detail is a Prisma query: its statements are captured from a PrismaClient with query events running
//     the server's own DevicesRepository.findDetail (apps/server/dist), then explained with the captured parameters.
import { ZDeviceListQueryV1 } from "@fleet/protocol";
import { deviceListSql, devicePageSql, deviceCountSql } from "../../apps/server/dist/devices/devices-list.sql.js";
import { matrixCountSql, matrixPageSql } from "../../apps/server/dist/compatibility/compatibility-matrix.sql.js";
import { DevicesRepository } from "../../apps/server/dist/devices/devices.repository.js";
import { PrismaClient, pgAdapter } from "../../prisma/dist/index.js";

export { devicePageSql, deviceCountSql, matrixPageSql, matrixCountSql };

/** The server's online cutoff with its default OFFLINE_AFTER_SEC (90 s). */
export const onlineCutoff = (offlineAfterSec = 90) => new Date(Date.now() - offlineAfterSec * 1000);

/** {page, count} statements of GET /api/v1/devices?<qs>, parsed with the API's own schema (defaults included). */
export function listStatements(qs, cutoff = onlineCutoff()) {
  const query = ZDeviceListQueryV1.parse(Object.fromEntries(new URLSearchParams(qs)));
  return deviceListSql(query, cutoff);
}

/** The statements DevicesRepository.findDetail(id) sends through Prisma, with their parameters. */
export async function detailStatements(databaseUrl, id) {
  const prisma = new PrismaClient({ adapter: pgAdapter(databaseUrl), log: [{ emit: "event", level: "query" }] });
  const seen = [];
  prisma.$on("query", (e) => seen.push({ text: e.query, values: JSON.parse(e.params) }));
  try {
    await new DevicesRepository(prisma, null).findDetail(id);
  } finally {
    await prisma.$disconnect();
  }
  return seen.filter((s) => /^\s*SELECT/i.test(s.text));
}

/** A Seq Scan reading fewer rows than this is the planner's right choice for a small table, not a whole-table read to fix. */
export const SMALL_SCAN_ROWS = 1000;

function walk(plan, out = []) {
  const loops = plan["Actual Loops"] ?? 1;
  out.push({ type: plan["Node Type"], rel: plan["Relation Name"] ?? null, index: plan["Index Name"] ?? null, rows: (plan["Actual Rows"] + (plan["Rows Removed by Filter"] ?? 0)) * loops });
  for (const child of plan.Plans ?? []) walk(child, out);
  return out;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one statement: execution ms, the indexes its plan reads, the tables it
 * reads whole (Seq Scan of at least SMALL_SCAN_ROWS rows, with the rows read), shared buffers touched, and a compact
 * node list.
 */
export async function explain(client, name, { text, values }) {
  const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
  const [{ "QUERY PLAN": [plan] }] = res.rows;
  const nodes = walk(plan.Plan);
  const indexes = [...new Set(nodes.filter((n) => n.index).map((n) => n.index))];
  const seqScans = nodes.filter((n) => n.type === "Seq Scan" && n.rows >= SMALL_SCAN_ROWS).map((n) => `${n.rel} (${n.rows} rows)`);
  return {
    name,
    ms: Math.round(plan["Execution Time"] * 100) / 100,
    // reaches its rows through an index (or reads only tables below SMALL_SCAN_ROWS rows) and reads no big table whole
    usesIndex: seqScans.length === 0 && (indexes.length > 0 || nodes.every((n) => n.type !== "Seq Scan" || n.rows < SMALL_SCAN_ROWS)),
    smallOnly: indexes.length === 0 && seqScans.length === 0,
    indexes,
    seqScans,
    buffers: (plan.Plan["Shared Hit Blocks"] ?? 0) + (plan.Plan["Shared Read Blocks"] ?? 0),
    nodes: nodes.map((n) => (n.index ? `${n.type}(${n.index})` : n.rel ? `${n.type}(${n.rel})` : n.type)).join(" > "),
  };
}

/** One log line per plan. */
export function describePlan(p) {
  const scans = p.seqScans.length ? `  SEQ SCAN ${p.seqScans.join(", ")}` : "";
  return `${p.smallOnly ? "SMALL   " : p.usesIndex ? "INDEX   " : "NO INDEX"} ${p.name.padEnd(34)} ${String(p.ms).padStart(8)} ms  ${String(p.buffers).padStart(6)} buf  ${p.indexes.join(", ") || "-"}${scans}`;
}
