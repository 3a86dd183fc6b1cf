import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

const GiB = 1024 ** 3;

/** Aggregates for the Overview, each one SQL statement over indexed columns (no per-device round trips). */
@Injectable()
export class OverviewRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async deviceCounts(onlineSince: Date) {
    const [r] = await this.db.$queryRaw<Array<{ total: bigint; online: bigint; offline: bigint; never: bigint; revoked: bigint }>>`
      SELECT count(*) AS total,
        count(*) FILTER (WHERE d.state = 'active' AND l."lastSeenAt" >= ${onlineSince}) AS online,
        count(*) FILTER (WHERE d.state = 'active' AND l."lastSeenAt" < ${onlineSince}) AS offline,
        count(*) FILTER (WHERE d.state = 'active' AND l."lastSeenAt" IS NULL) AS never,
        count(*) FILTER (WHERE d.state <> 'active') AS revoked
      FROM "Device" d LEFT JOIN "DeviceLiveness" l ON l."deviceId" = d.id`;
    return r!;
  }

  /** RAM class and largest GPU of each active device's latest inventory, counted per class. */
  async hardwareClasses() {
    const ram = await this.db.$queryRaw<Array<{ label: string; devices: bigint; ord: number }>>`
      WITH latest AS (
        SELECT DISTINCT ON (s."deviceId") s."ramTotalBytes" AS ram
        FROM "InventorySnapshot" s JOIN "Device" d ON d.id = s."deviceId" AND d.state = 'active'
        ORDER BY s."deviceId", s."receivedAt" DESC)
      SELECT CASE WHEN ram <= ${8 * GiB}::bigint THEN '≤ 8 GiB' WHEN ram <= ${16 * GiB}::bigint THEN '8–16 GiB'
                  WHEN ram <= ${32 * GiB}::bigint THEN '16–32 GiB' WHEN ram <= ${64 * GiB}::bigint THEN '32–64 GiB' ELSE '> 64 GiB' END AS label,
             min(ram)::float8 AS ord, count(*) AS devices
      FROM latest GROUP BY 1 ORDER BY ord`;
    const gpu = await this.db.$queryRaw<Array<{ vendor: string; vram: string; devices: bigint }>>`
      WITH latest AS (
        SELECT DISTINCT ON (s."deviceId") s.id
        FROM "InventorySnapshot" s JOIN "Device" d ON d.id = s."deviceId" AND d.state = 'active'
        ORDER BY s."deviceId", s."receivedAt" DESC),
      best AS (
        SELECT l.id, g.vendor, g."vramBytes" FROM latest l
        LEFT JOIN LATERAL (SELECT vendor, "vramBytes" FROM "Gpu" WHERE "snapshotId" = l.id ORDER BY "vramBytes" DESC NULLS LAST LIMIT 1) g ON true)
      SELECT COALESCE(lower(vendor), 'none') AS vendor,
             CASE WHEN vendor IS NULL THEN '—' WHEN "vramBytes" IS NULL OR "vramBytes" = 0 THEN 'shared' WHEN "vramBytes" <= ${8 * GiB}::bigint THEN '≤ 8 GiB'
                  WHEN "vramBytes" <= ${16 * GiB}::bigint THEN '8–16 GiB' ELSE '> 16 GiB' END AS vram,
             count(*) AS devices
      FROM best GROUP BY 1, 2 ORDER BY devices DESC, vendor LIMIT 30`;
    return { ram, gpu };
  }

  async modelsInUse(limit: number) {
    return this.db.$queryRaw<Array<{ sha256: string; name: string; version: string | null; quantization: string | null; devices: bigint }>>`
      SELECT m.sha256, COALESCE(min(c.name), min(m.name), min(m."fileName")) AS name, min(c.version) AS version,
             COALESCE(min(c.quantization), min(m.quantization)) AS quantization, count(DISTINCT m."deviceId") AS devices
      FROM "InstalledModel" m
      JOIN "Device" d ON d.id = m."deviceId" AND d.state = 'active'
      LEFT JOIN "CatalogEntry" c ON c.sha256 = m.sha256
      WHERE m."removedAt" IS NULL
      GROUP BY m.sha256 ORDER BY devices DESC, name LIMIT ${limit}`;
  }

  async activeRollouts() {
    return this.db.$queryRaw<
      Array<{ id: string; state: string; entryName: string; entryVersion: string; currentRing: number; rings: number | null; active: bigint; failed: bigint; inProgress: bigint; total: bigint }>
    >`
      SELECT r.id, r.state::text AS state, e.name AS "entryName", e.version AS "entryVersion", r."currentRing",
             CASE WHEN jsonb_typeof(r.rings) = 'array' THEN jsonb_array_length(r.rings) END AS rings,
             count(rd."deviceId") FILTER (WHERE rd.state = 'active') AS active,
             count(rd."deviceId") FILTER (WHERE rd.state = 'failed') AS failed,
             count(rd."deviceId") FILTER (WHERE rd.state IN ('pending', 'downloading', 'verifying', 'testing')) AS "inProgress",
             count(rd."deviceId") FILTER (WHERE rd.state <> 'skipped') AS total
      FROM "Rollout" r JOIN "CatalogEntry" e ON e.id = r."entryId"
      LEFT JOIN "RolloutDevice" rd ON rd."rolloutId" = r.id
      WHERE r.state IN ('running', 'paused')
      GROUP BY r.id, e.name, e.version ORDER BY r."createdAt" DESC LIMIT 20`;
  }

  async failingDevices(limit: number) {
    return this.db.$queryRaw<Array<{ deviceId: string; hostname: string; rolloutId: string; code: string | null; reason: string | null; at: Date }>>`
      SELECT rd."deviceId", d.hostname, rd."rolloutId", rd.code, rd.reason, rd."stateAt" AS at
      FROM "RolloutDevice" rd JOIN "Rollout" r ON r.id = rd."rolloutId" AND r.state IN ('running', 'paused')
      JOIN "Device" d ON d.id = rd."deviceId"
      WHERE rd.state = 'failed' ORDER BY rd."stateAt" DESC LIMIT ${limit}`;
  }

  async openViolations() {
    const byPolicy = await this.db.$queryRaw<Array<{ policy: string; open: bigint }>>`
      SELECT policy, count(*) AS open FROM "ComplianceViolation" WHERE "resolvedAt" IS NULL GROUP BY policy ORDER BY open DESC, policy`;
    const [d] = await this.db.$queryRaw<Array<{ devices: bigint }>>`
      SELECT count(DISTINCT "deviceId") AS devices FROM "ComplianceViolation" WHERE "resolvedAt" IS NULL`;
    return { byPolicy, devices: d?.devices ?? 0n };
  }
}
