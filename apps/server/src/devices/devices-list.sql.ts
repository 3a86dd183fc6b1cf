import type { TDeviceListQueryV1 } from "@fleet/protocol";

// The SQL of GET /api/v1/devices, built in one place so that `pnpm bench console` and `pnpm bench hot-queries`
// run EXPLAIN (ANALYZE) on exactly the statements the repository sends (apps/server/dist/devices/devices-list.sql.js).
//
// A page is one statement: the page's ids (filter, sort, LIMIT/OFFSET over the index of the sort: an index-only
// scan where the visibility map allows), the rows of those ids, and, per
// device of the page, its latest inventory (index (deviceId, receivedAt desc), LIMIT 1), that snapshot's GPUs, its
// installed models and its 20 latest memory-pressure flags, aggregated to JSON. The total is a second statement with
// the same WHERE. Indexes (prisma/schema.prisma): Device (hostname, id), (enrolledAt, id) and DeviceLiveness
// (lastSeenAt desc, deviceId) for the sorts; a GIN trigram index on hostname for `q`. Liveness lives in
// DeviceLiveness (alias l, LEFT JOINed: a device never seen has no row; PostgreSQL drops the join where no l column
// is used). The gpuVendor filter reads Device.gpuVendors (the latest inventory's vendors, kept by the inventory
// writer) on the rows it walks: a handful of vendors, so a trigram index would not narrow the count much.
//
// Both "last seen" sorts put never-seen devices last and are read in two parts: devices seen (in the liveness
// index's order, backwards for oldest first) and then never seen (by id). A seen part with no filter on the device
// walks DeviceLiveness alone (its rows belong to existing devices: a foreign key), not Device for every row skipped.

export interface SqlStatement {
  text: string;
  values: (string | number)[];
}

/** Devices (d) with their liveness (l; none for a device never seen). */
const FROM_DEVICES = `"Device" d LEFT JOIN "DeviceLiveness" l ON l."deviceId" = d.id`;

/**
 * No liveness row. Tested on the join column: PostgreSQL plans that as an anti-join (a walk of the sort's index that
 * probes DeviceLiveness's primary key), while `l."lastSeenAt" IS NULL` stayed an outer join filtered afterwards
 * (both tables read whole and sorted: 50-140 ms at 50,000 devices against 6 ms).
 */
const NEVER_SEEN = `l."deviceId" IS NULL`;

/** Which part of the fleet a statement reads: all, or (for the lastSeenAt sorts) seen / never-seen devices. */
export type ListPart = "all" | "seen" | "unseen";

/** `%text%` for ILIKE with the pattern characters of `text` taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Does this query read the fleet in the two parts (seen, then never seen)? */
export const isSplitSort = (query: Pick<TDeviceListQueryV1, "sort">): boolean => query.sort === "-lastSeenAt" || query.sort === "lastSeenAt";

function whereOf(query: TDeviceListQueryV1, cutoff: Date, part: ListPart, values: (string | number)[]): string {
  const param = (v: string | number) => {
    values.push(v);
    return `$${values.length}`;
  };
  const and: string[] = [];
  switch (query.status) {
    case "revoked":
      and.push(`d.state = 'revoked'`);
      break;
    case "never_seen":
      and.push(`d.state = 'active'`, NEVER_SEEN);
      break;
    case "online":
      and.push(`d.state = 'active'`, `l."lastSeenAt" >= ${param(cutoff.toISOString())}::timestamp(3)`);
      break;
    case "offline":
      and.push(`d.state = 'active'`, `l."lastSeenAt" < ${param(cutoff.toISOString())}::timestamp(3)`);
      break;
  }
  // q: a substring of the hostname (any case; trigram index) or a device id exactly (primary key). Device ids are
  // random (dev_<base64url>), pasted whole; a trigram index on id would be used for every id lookup of the app.
  if (query.q) and.push(`(d.hostname ILIKE ${param(containsPattern(query.q))} OR d.id = ${param(query.q)})`);
  // Device.gpuVendors: one vendor per line, a newline inside a vendor stored as a space (the inventory writer)
  if (query.gpuVendor) and.push(`d."gpuVendors" ILIKE ${param(containsPattern(query.gpuVendor.replace(/\n/g, " ")))}`);
  if (query.modelSha256) {
    and.push(`EXISTS (SELECT 1 FROM "InstalledModel" m WHERE m."deviceId" = d.id AND m.sha256 = ${param(query.modelSha256)} AND m."removedAt" IS NULL)`);
  }
  if (part === "seen") and.push(`l."lastSeenAt" IS NOT NULL`);
  if (part === "unseen") and.push(NEVER_SEEN);
  return and.length ? and.join(" AND ") : "TRUE";
}

/** ORDER BY of the sort (ties by id), for the aliases `d` (Device) and `l` (its DeviceLiveness). */
function orderOf(query: TDeviceListQueryV1, part: ListPart): string {
  if (part === "unseen") return `d.id ASC`;
  const s = query.sort ?? "hostname";
  const dir = s.startsWith("-") ? "DESC" : "ASC";
  const col = s.replace(/^-/, "");
  // the seen part: the liveness index's order (its deviceId is the device's id); ascending, an incremental sort of
  // the backward scan puts the (rare) ties in id order
  if (col === "lastSeenAt") return part === "seen" ? `l."lastSeenAt" ${dir}, l."deviceId" ASC` : `l."lastSeenAt" ${dir} NULLS LAST, d.id ASC`;
  return `d."${col}" ${dir}, d.id ASC`;
}

/** SELECT of the page's ids before ORDER BY (see the header on the seen part). */
function idsOf(part: ListPart, where: string): string {
  if (part === "seen" && !/\bd\./.test(where)) return `SELECT l."deviceId" AS id FROM "DeviceLiveness" l WHERE ${where}`;
  return `SELECT d.id FROM ${FROM_DEVICES} WHERE ${where}`;
}

/** One page of devices with their summary relations. */
export function devicePageSql(query: TDeviceListQueryV1, cutoff: Date, part: ListPart, limit: number, offset: number): SqlStatement {
  const values: (string | number)[] = [];
  const where = whereOf(query, cutoff, part, values);
  values.push(limit, offset);
  const lim = `$${values.length - 1}::int`;
  const off = `$${values.length}::int`;
  const order = orderOf(query, part);
  const text = `SELECT d.id, d.hostname, d.state::text AS state, d."enrolledAt", l."lastSeenAt", d."agentVersion",
  s."cpuBrand", s."cpuCores", s."ramTotalBytes", s."osName",
  coalesce(g.gpus, '[]'::json) AS gpus, coalesce(m.models, '[]'::json) AS models, coalesce(f.flags, '[]'::json) AS flags
FROM (${idsOf(part, where)} ORDER BY ${order} LIMIT ${lim} OFFSET ${off}) p
JOIN (${FROM_DEVICES}) ON d.id = p.id
LEFT JOIN LATERAL (SELECT i.id, i."cpuBrand", i."cpuCores", i."ramTotalBytes", i."osName" FROM "InventorySnapshot" i
                   WHERE i."deviceId" = d.id ORDER BY i."receivedAt" DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT json_agg(json_build_object('vendor', x.vendor, 'model', x.model, 'vramBytes', x."vramBytes") ORDER BY x.index) AS gpus
                   FROM "Gpu" x WHERE x."snapshotId" = s.id) g ON true
LEFT JOIN LATERAL (SELECT json_agg(json_build_object('fileName', x."fileName", 'sha256', x.sha256, 'architecture', x.architecture, 'quantization', x.quantization)
                     ORDER BY x."fileName") AS models
                   FROM "InstalledModel" x WHERE x."deviceId" = d.id AND x."removedAt" IS NULL) m ON true
LEFT JOIN LATERAL (SELECT json_agg(json_build_object('modelId', x."modelId", 'sha256', x.sha256, 'reason', x.reason,
                     'lastSeenAt', to_char(x."lastSeenAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY x."lastSeenAt" DESC) AS flags
                   FROM (SELECT * FROM "MemoryPressureFlag" WHERE "deviceId" = d.id ORDER BY "lastSeenAt" DESC LIMIT 20) x) f ON true
ORDER BY ${order}`;
  return { text, values };
}

/** The number of devices matching the filters (of one part). */
export function deviceCountSql(query: TDeviceListQueryV1, cutoff: Date, part: ListPart = "all"): SqlStatement {
  const values: (string | number)[] = [];
  const where = whereOf(query, cutoff, part, values);
  return { text: `SELECT count(*)::int AS n FROM ${FROM_DEVICES} WHERE ${where}`, values };
}

/** The statements a page request starts with (the benches EXPLAIN these): the page (its first part) and the total. */
export function deviceListSql(query: TDeviceListQueryV1, cutoff: Date): { page: SqlStatement; count: SqlStatement } {
  const offset = (query.page - 1) * query.pageSize;
  return { page: devicePageSql(query, cutoff, isSplitSort(query) ? "seen" : "all", query.pageSize, offset), count: deviceCountSql(query, cutoff) };
}
