import type { TCompatibilityClass } from "@fleet/protocol";

// The SQL of GET /api/v1/compatibility, in one place so that `pnpm bench hot-queries` runs EXPLAIN (ANALYZE) on
// exactly what the repository sends (apps/server/dist/compatibility/compatibility-matrix.sql.js).
// Page: the page's keys over the index (entryId, deviceId) (only active devices: a primary-key probe of Device per
// row walked), then the rows, hostnames and entry paths of those keys. Total: the matching rows minus those of
// devices that are not active, an anti-join against the few non-active devices instead of a join with the whole fleet.

export interface SqlStatement {
  text: string;
  values: (string | number)[];
}

export interface MatrixFilter {
  page: number;
  pageSize: number;
  entryId?: string;
  hardwareClass?: string;
  group?: string;
  class?: TCompatibilityClass;
  deviceId?: string;
}

function whereOf(f: MatrixFilter, values: (string | number)[]): string[] {
  const param = (v: string | number) => {
    values.push(v);
    return `$${values.length}`;
  };
  const and: string[] = [];
  if (f.entryId !== undefined) and.push(`c."entryId" = ${param(f.entryId)}`);
  if (f.hardwareClass !== undefined) and.push(`c."hardwareClass" = ${param(f.hardwareClass)}`);
  if (f.class !== undefined) and.push(`c.class = ${param(f.class)}`);
  if (f.deviceId !== undefined) and.push(`c."deviceId" = ${param(f.deviceId)}`);
  return and;
}

/** Device condition: active (revoked devices keep their rows as history), optionally with label group = f.group. */
function deviceCondition(f: MatrixFilter, values: (string | number)[]): string {
  if (f.group === undefined) return `d.state = 'active'`;
  values.push(f.group);
  return `d.state = 'active' AND d.labels -> 'group' = to_jsonb($${values.length}::text)`;
}

export function matrixPageSql(f: MatrixFilter): SqlStatement {
  const values: (string | number)[] = [];
  const where = [...whereOf(f, values), deviceCondition(f, values)].join(" AND ");
  values.push(f.pageSize, (f.page - 1) * f.pageSize);
  const text = `SELECT c."deviceId", d.hostname, c."entryId", e."targetPath", c.class, c."gpuLayers", c."totalLayers", c."hardwareClass", c.reason, c.plan, c."computedAt"
FROM (SELECT c."entryId", c."deviceId" FROM "DeviceCompatibility" c JOIN "Device" d ON d.id = c."deviceId"
      WHERE ${where} ORDER BY c."entryId", c."deviceId" LIMIT $${values.length - 1}::int OFFSET $${values.length}::int) p
JOIN "DeviceCompatibility" c ON c."entryId" = p."entryId" AND c."deviceId" = p."deviceId"
JOIN "Device" d ON d.id = c."deviceId"
JOIN "CatalogEntry" e ON e.id = c."entryId"
ORDER BY c."entryId", c."deviceId"`;
  return { text, values };
}

export function matrixCountSql(f: MatrixFilter): SqlStatement {
  const values: (string | number)[] = [];
  const where = whereOf(f, values);
  // With a group the device's labels decide: a join. Without, only the non-active devices are looked up.
  where.push(
    f.group === undefined
      ? `NOT EXISTS (SELECT 1 FROM "Device" d WHERE d.id = c."deviceId" AND d.state <> 'active')`
      : `EXISTS (SELECT 1 FROM "Device" d WHERE d.id = c."deviceId" AND ${deviceCondition(f, values)})`,
  );
  return { text: `SELECT count(*)::int AS n FROM "DeviceCompatibility" c WHERE ${where.join(" AND ")}`, values };
}
