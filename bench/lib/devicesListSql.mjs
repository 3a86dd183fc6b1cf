// The SQL GET /api/v1/devices runs, reproduced from apps/server/src/devices/devices.repository.ts as Prisma 6
// (no relationJoins) issues it: one page query on "Device", a COUNT over the same WHERE, then one query per included
// relation with the page's ids (IN list), and for gpuVendor a raw query on the latest snapshots first.
// EXPLAIN (ANALYZE, FORMAT JSON) of each, and whether its plan reads through an index.
// Keep in step with the repository when it changes (another helper is tuning these queries and their indexes).

const ONLINE_CUTOFF_SQL = "now() - interval '5 minutes'";

const deviceWhere = {
  all: "TRUE",
  online: `"state" = 'active' AND "lastSeenAt" >= ${ONLINE_CUTOFF_SQL}`,
  neverSeen: `"state" = 'active' AND "lastSeenAt" IS NULL`,
  q: `("hostname" ILIKE '%ws-00012%' OR "id" ILIKE '%ws-00012%')`,
};

const pageSql = (where, order, limit, offset) =>
  `SELECT "id","hostname","state","publicKeyJwk","publicKeyThumbprint","natsUserKey","agentVersion","labels","enrolledAt","enrollmentTokenId","lastSeenAt","lastSeq","updatedAt"
   FROM "Device" WHERE ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`;
const countSql = (where) => `SELECT COUNT(*) FROM (SELECT "id" FROM "Device" WHERE ${where} OFFSET 0) AS sub`;
const GPU_VENDOR_IDS = `SELECT DISTINCT g."deviceId" FROM "Gpu" g
  JOIN (SELECT DISTINCT ON ("deviceId") id FROM "InventorySnapshot" ORDER BY "deviceId", "receivedAt" DESC) latest
    ON latest.id = g."snapshotId"
  WHERE g.vendor ILIKE '%nvidia%'`;

const BY_HOSTNAME = `"hostname" ASC, "id" ASC`;
const BY_LAST_SEEN_DESC = `"lastSeenAt" DESC NULLS LAST, "id" ASC`;

function walk(plan, out = []) {
  out.push(plan["Index Name"] ? `${plan["Node Type"]}(${plan["Index Name"]})` : plan["Relation Name"] ? `${plan["Node Type"]}(${plan["Relation Name"]})` : plan["Node Type"]);
  for (const child of plan.Plans ?? []) walk(child, out);
  return out;
}

/** [{name, ms, usesIndex, seqScans, nodes}] for each list query; page/late-page/sorts/filters, counts and the relation loads. */
export async function explainListQueries(client, { latePage, pageSize }) {
  const ids = (await client.query(`SELECT id FROM "Device" ORDER BY ${BY_HOSTNAME} LIMIT ${pageSize}`)).rows.map((r) => r.id);
  const inIds = ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(",");
  const snapshotIds = (await client.query(`SELECT id FROM "InventorySnapshot" WHERE "deviceId" IN (${inIds})`)).rows.map((r) => `'${r.id}'`).join(",");
  const late = (latePage - 1) * pageSize;
  const queries = {
    "page hostname": pageSql(deviceWhere.all, BY_HOSTNAME, pageSize, 0),
    "page hostname late": pageSql(deviceWhere.all, BY_HOSTNAME, pageSize, late),
    "page lastSeenAt desc": pageSql(deviceWhere.all, BY_LAST_SEEN_DESC, pageSize, 0),
    "page lastSeenAt desc late": pageSql(deviceWhere.all, BY_LAST_SEEN_DESC, pageSize, late),
    "page status=online": pageSql(deviceWhere.online, BY_HOSTNAME, pageSize, 0),
    "page status=never_seen": pageSql(deviceWhere.neverSeen, BY_HOSTNAME, pageSize, 0),
    "page q": pageSql(deviceWhere.q, BY_HOSTNAME, pageSize, 0),
    "count all": countSql(deviceWhere.all),
    "count status=online": countSql(deviceWhere.online),
    "count q": countSql(deviceWhere.q),
    "gpuVendor ids (latest snapshots)": GPU_VENDOR_IDS,
    "rel InventorySnapshot by deviceId": `SELECT * FROM "InventorySnapshot" WHERE "deviceId" IN (${inIds}) ORDER BY "receivedAt" DESC`,
    "rel Gpu by snapshotId": `SELECT * FROM "Gpu" WHERE "snapshotId" IN (${snapshotIds || "''"}) ORDER BY "index" ASC`,
    "rel InstalledModel by deviceId": `SELECT * FROM "InstalledModel" WHERE "deviceId" IN (${inIds}) AND "removedAt" IS NULL ORDER BY "fileName" ASC`,
    "rel MemoryPressureFlag by deviceId": `SELECT * FROM "MemoryPressureFlag" WHERE "deviceId" IN (${inIds}) ORDER BY "lastSeenAt" DESC`,
  };
  const out = [];
  for (const [name, sql] of Object.entries(queries)) {
    const [{ "QUERY PLAN": [plan] }] = (await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`)).rows;
    const nodes = walk(plan.Plan);
    // a plan can use an index on one table and still read another whole (e.g. the gpuVendor join reads all of "Gpu")
    const seqScans = nodes.filter((n) => n.startsWith("Seq Scan")).map((n) => n.slice("Seq Scan(".length, -1));
    out.push({ name, ms: Math.round(plan["Execution Time"] * 10) / 10, usesIndex: nodes.some((n) => /Index/.test(n)), seqScans, nodes: nodes.join(" > ") });
  }
  return out;
}
