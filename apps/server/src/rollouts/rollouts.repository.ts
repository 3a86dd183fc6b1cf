import { Inject, Injectable } from "@nestjs/common";
import type { Prisma, RolloutDeviceState, RolloutState } from "@fleet/db";
import { AuditRepository, type AuditEntry } from "../audit/audit.repository.js";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";

/** pg advisory lock key of the rollout scheduler ("flro"): one instance acts on rollouts at a time. */
export const ROLLOUT_LOCK = 0x666c726f;
const BATCH = 2000;

export interface NewRolloutDevice {
  deviceId: string;
  ring: number | null;
  state: "skipped" | "waiting";
  reason: string | null;
  previousTarget: string | null;
  previousSha256: string | null;
}

export interface RingCounts {
  ring: number | null;
  state: RolloutDeviceState;
  n: number;
}

export type RolloutWithEntry = Prisma.RolloutGetPayload<{ include: { entry: true } }>;

@Injectable()
export class RolloutsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Run `fn` while holding the scheduler's advisory lock (transaction-scoped, so a crashed holder releases it).
   * `wait: false` returns {acted: false} at once when another instance holds it.
   */
  async withLock<T>(fn: () => Promise<T>, wait: boolean): Promise<{ acted: true; value: T } | { acted: false }> {
    return this.db.$transaction(
      async (tx) => {
        if (wait) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLOUT_LOCK})`;
        else {
          const [row] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${ROLLOUT_LOCK}) AS ok`;
          if (!row?.ok) return { acted: false as const };
        }
        return { acted: true as const, value: await fn() };
      },
      { timeout: 10 * 60_000, maxWait: 60_000 },
    );
  }

  entry(id: string) {
    return this.db.catalogEntry.findUnique({ where: { id } });
  }

  entriesByTarget(targets: string[]) {
    return this.db.catalogEntry.findMany({ where: { targetPath: { in: targets }, state: { in: ["approved", "deprecated"] } } });
  }

  openRolloutOf(entryId: string) {
    return this.db.rollout.findFirst({ where: { entryId, state: { in: ["running", "paused"] } }, select: { id: true } });
  }

  /** Active devices in scope: all, or those whose label `group` equals `group` (raw SQL: tens of thousands of rows). */
  scopeDevices(group: string | null): Promise<{ id: string }[]> {
    return group
      ? this.db.$queryRaw`SELECT id FROM "Device" WHERE state = 'active' AND labels->>'group' = ${group} ORDER BY id`
      : this.db.$queryRaw`SELECT id FROM "Device" WHERE state = 'active' ORDER BY id`;
  }

  compatibility(entryId: string): Promise<{ deviceId: string; class: string; reason: string | null }[]> {
    return this.db.$queryRaw`SELECT "deviceId", class, reason FROM "DeviceCompatibility" WHERE "entryId" = ${entryId}`;
  }

  /**
   * The model each device serves now, as the server knows it: the newer (device clock) of its latest heartbeat's
   * activeModel (with the sha256 of the installed file of that name) and the catalog entry of its latest rollout row
   * that went active. A heartbeat alone could be a second older than the install a rollout just completed: a rollout
   * created then recorded the model before that install as "previous", and rolling it back skipped that install.
   */
  async previousServing(deviceIds: string[]): Promise<Map<string, { model: string; sha256: string | null }>> {
    const out = new Map<string, { model: string; sha256: string | null }>();
    for (let i = 0; i < deviceIds.length; i += BATCH) {
      const ids = deviceIds.slice(i, i + BATCH);
      const rows = await this.db.$queryRaw<{ deviceId: string; model: string; sha256: string | null }[]>`
        SELECT x."deviceId",
          CASE WHEN pick.install THEN ro.model ELSE hb.model END AS model,
          CASE WHEN pick.install THEN ro.sha256 ELSE
            (SELECT m.sha256 FROM "InstalledModel" m
              WHERE m."deviceId" = x."deviceId" AND m."removedAt" IS NULL AND m.error IS NULL
                AND (m."fileName" = hb.model OR m."fileName" = hb.model || '.gguf')
              ORDER BY m."lastSeenAt" DESC LIMIT 1) END AS sha256
        FROM unnest(${ids}::text[]) AS x("deviceId")
        LEFT JOIN LATERAL (SELECT h."activeModel" AS model, h."sentAt" AS at FROM "Heartbeat" h
          WHERE h."deviceId" = x."deviceId" ORDER BY h."receivedAt" DESC LIMIT 1) hb ON true
        LEFT JOIN LATERAL (SELECT e."targetPath" AS model, e.sha256, d."stateAt" AS at FROM "RolloutDevice" d
          JOIN "Rollout" r ON r.id = d."rolloutId" JOIN "CatalogEntry" e ON e.id = r."entryId"
          WHERE d."deviceId" = x."deviceId" AND d.state = 'active' ORDER BY d."stateAt" DESC LIMIT 1) ro ON true
        CROSS JOIN LATERAL (SELECT ro.at IS NOT NULL AND (hb.at IS NULL OR ro.at >= hb.at) AS install) pick`;
      for (const r of rows) if (r.model !== null) out.set(r.deviceId, { model: r.model, sha256: r.sha256 });
    }
    return out;
  }

  async create(
    rollout: { id: string; entryId: string; group: string | null; rings: Prisma.InputJsonValue; note: string | null; createdBy: string },
    devices: NewRolloutDevice[],
    audit: AuditEntry,
  ): Promise<void> {
    const at = new Date();
    await this.db.$transaction(
      async (tx) => {
        await tx.rollout.create({
          data: { ...rollout, state: "running", currentRing: 0, ringHistory: [], createdAt: at },
        });
        // One INSERT ... SELECT per batch: Prisma's createMany encodes every row and takes seconds for 10,000.
        const iso = at.toISOString();
        for (let i = 0; i < devices.length; i += BATCH) {
          const json = JSON.stringify(devices.slice(i, i + BATCH));
          await tx.$executeRaw`
            INSERT INTO "RolloutDevice" ("rolloutId", "deviceId", "ring", "state", "reason", "previousTarget", "previousSha256", "timeline", "stateAt", "updatedAt")
            SELECT ${rollout.id}, x."deviceId", x."ring", x."state"::"RolloutDeviceState", x."reason", x."previousTarget", x."previousSha256",
              jsonb_build_object(x."state", ${iso}::text), ${at}, ${at}
            FROM jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text, "ring" int, "state" text, "reason" text, "previousTarget" text, "previousSha256" text)`;
        }
        await tx.$executeRaw`
          INSERT INTO "RolloutTransition" ("id", "rolloutId", "deviceId", "ring", "state", "at")
          SELECT gen_random_uuid()::text, "rolloutId", "deviceId", "ring", "state", ${at} FROM "RolloutDevice" WHERE "rolloutId" = ${rollout.id}`;
        await this.audit.record(audit, tx);
      },
      { timeout: 120_000 },
    );
  }

  get(id: string): Promise<RolloutWithEntry | null> {
    return this.db.rollout.findUnique({ where: { id }, include: { entry: true } });
  }

  runningIds() {
    return this.db.rollout.findMany({ where: { state: "running" }, select: { id: true }, orderBy: { createdAt: "asc" } });
  }

  async list(q: { page: number; pageSize: number; state?: RolloutState; entryId?: string; group?: string }) {
    const where: Prisma.RolloutWhereInput = { state: q.state, entryId: q.entryId, group: q.group };
    const [rows, total] = await this.db.$transaction([
      this.db.rollout.findMany({ where, include: { entry: true }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], skip: (q.page - 1) * q.pageSize, take: q.pageSize }),
      this.db.rollout.count({ where }),
    ]);
    return { rows, total };
  }

  async counts(rolloutIds: string[]): Promise<Map<string, RingCounts[]>> {
    const rows = await this.db.rolloutDevice.groupBy({ by: ["rolloutId", "ring", "state"], where: { rolloutId: { in: rolloutIds } }, _count: { _all: true } });
    const out = new Map<string, RingCounts[]>();
    for (const r of rows) {
      const list = out.get(r.rolloutId) ?? [];
      list.push({ ring: r.ring, state: r.state, n: r._count._all });
      out.set(r.rolloutId, list);
    }
    return out;
  }

  async devices(rolloutId: string, q: { page: number; pageSize: number; state?: RolloutDeviceState; ring?: number }) {
    const where: Prisma.RolloutDeviceWhereInput = { rolloutId, state: q.state, ring: q.ring };
    const [rows, total] = await this.db.$transaction([
      this.db.rolloutDevice.findMany({
        where,
        include: { device: { select: { hostname: true } } },
        orderBy: [{ ring: { sort: "asc", nulls: "last" } }, { deviceId: "asc" }],
        skip: (q.page - 1) * q.pageSize,
        take: q.pageSize,
      }),
      this.db.rolloutDevice.count({ where }),
    ]);
    return { rows, total };
  }

  deviceWithHost(rolloutId: string, deviceId: string) {
    return this.db.rolloutDevice.findUnique({ where: { rolloutId_deviceId: { rolloutId, deviceId } }, include: { device: { select: { hostname: true } } } });
  }

  device(rolloutId: string, deviceId: string) {
    return this.db.rolloutDevice.findUnique({ where: { rolloutId_deviceId: { rolloutId, deviceId } } });
  }

  /** The rollout's devices (of one ring, or all) in these states; `limit`: the first so many by device id. */
  devicesIn(
    rolloutId: string,
    ring: number | undefined,
    states: RolloutDeviceState[],
    limit?: number,
  ): Promise<{ deviceId: string; ring: number | null; state: RolloutDeviceState; previousTarget: string | null; previousSha256: string | null }[]> {
    return this.db.$queryRaw`
      SELECT "deviceId", "ring", "state", "previousTarget", "previousSha256" FROM "RolloutDevice"
      WHERE "rolloutId" = ${rolloutId} AND (${ring ?? null}::int IS NULL OR "ring" = ${ring ?? null}::int) AND "state"::text = ANY(${states as string[]})
      ORDER BY "deviceId" LIMIT ${limit ?? null}::int`;
  }

  /**
   * Record the assignment version each device was sent. With `state` (a fresh install), the row also moves to it,
   * its timeline and a transition are written; without, only the version changes (rollback, renewal), so the
   * device's next update report about that version is the one that moves the row.
   */
  async markAssigned(rolloutId: string, issued: { deviceId: string; version: bigint }[], state: "pending" | null): Promise<void> {
    const at = new Date();
    for (let i = 0; i < issued.length; i += BATCH) {
      const json = JSON.stringify(issued.slice(i, i + BATCH).map((x) => ({ deviceId: x.deviceId, version: x.version.toString() })));
      if (state === null) {
        await this.db.$executeRaw`
          UPDATE "RolloutDevice" d SET "assignmentVersion" = x."version", "updatedAt" = ${at}
          FROM jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text, "version" bigint)
          WHERE d."rolloutId" = ${rolloutId} AND d."deviceId" = x."deviceId"`;
        continue;
      }
      const iso = at.toISOString();
      await this.db.$transaction([
        this.db.$executeRaw`
          UPDATE "RolloutDevice" d SET "assignmentVersion" = x."version", "state" = 'pending'::"RolloutDeviceState", "code" = NULL, "reason" = NULL,
            "bytesDone" = NULL, "stateAt" = ${at}, "updatedAt" = ${at}, "timeline" = jsonb_build_object('pending', ${iso}::text) || d."timeline"
          FROM jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text, "version" bigint)
          WHERE d."rolloutId" = ${rolloutId} AND d."deviceId" = x."deviceId"`,
        this.db.$executeRaw`
          INSERT INTO "RolloutTransition" ("id", "rolloutId", "deviceId", "ring", "state", "at")
          SELECT gen_random_uuid()::text, d."rolloutId", d."deviceId", d."ring", 'pending'::"RolloutDeviceState", ${at}
          FROM "RolloutDevice" d JOIN jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text) ON x."deviceId" = d."deviceId"
          WHERE d."rolloutId" = ${rolloutId}`,
      ]);
    }
  }

  /** Put devices of a ring back to waiting (a resumed rollout re-runs the ring that failed). */
  async resetToWaiting(rolloutId: string, ring: number): Promise<number> {
    const { count } = await this.db.rolloutDevice.updateMany({ where: { rolloutId, ring, state: { notIn: ["skipped", "waiting"] } }, data: { state: "waiting", code: null, reason: null, stateAt: new Date() } });
    return count;
  }

  /** Rollouts where this device is assigned (anything but skipped/waiting), newest first. */
  rolloutRowsOfDevice(deviceId: string) {
    return this.db.rolloutDevice.findMany({ where: { deviceId, state: { notIn: ["skipped", "waiting"] } }, include: { rollout: { select: { entryId: true, createdAt: true } } } });
  }

  /** Devices that have the file with this sha256 installed (not removed). */
  async devicesWithSha256(sha256: string): Promise<string[]> {
    const rows = await this.db.installedModel.findMany({ where: { sha256, removedAt: null, device: { state: "active" } }, select: { deviceId: true }, distinct: ["deviceId"] });
    return rows.map((r) => r.deviceId);
  }

  async update(id: string, data: Prisma.RolloutUpdateInput, audit?: AuditEntry): Promise<void> {
    await this.db.$transaction(async (tx: Tx) => {
      await tx.rollout.update({ where: { id }, data });
      if (audit) await this.audit.record(audit, tx);
    });
  }

  async recordAudit(entry: AuditEntry): Promise<void> {
    await this.audit.record(entry);
  }

  /** What a ring's devices did since `since`: states, loads and requests of the new sha256, tokens/s vs their previous model. */
  async ringStats(rolloutId: string, ring: number, sha256: string, since: Date, excluded: string[]) {
    const [states, loads, requests, speeds] = await Promise.all([
      this.db.rolloutDevice.groupBy({ by: ["state"], where: { rolloutId, ring, deviceId: { notIn: excluded } }, _count: { _all: true } }),
      this.db.$queryRaw<{ ok: number; failed: number }[]>`
        SELECT count(*) FILTER (WHERE l.ok)::int AS ok, count(*) FILTER (WHERE NOT l.ok)::int AS failed
        FROM "ModelLoad" l JOIN "RolloutDevice" d ON d."deviceId" = l."deviceId" AND d."rolloutId" = ${rolloutId} AND d."ring" = ${ring}
        WHERE NOT (l."deviceId" = ANY(${excluded})) AND l.sha256 = ${sha256} AND l."at" >= ${since}`,
      this.db.$queryRaw<{ total: number; errors: number }[]>`
        SELECT coalesce(sum(m.requests), 0)::int AS total, coalesce(sum(m.errors), 0)::int AS errors
        FROM "RuntimeMetric" m JOIN "RolloutDevice" d ON d."deviceId" = m."deviceId" AND d."rolloutId" = ${rolloutId} AND d."ring" = ${ring}
        WHERE NOT (m."deviceId" = ANY(${excluded})) AND m.sha256 = ${sha256} AND m."windowEnd" >= ${since}`,
      this.db.$queryRaw<{ newTps: number | null; oldTps: number | null }[]>`
        SELECT
          (SELECT avg(1000.0 / m."tpotP50Ms") FROM "RuntimeMetric" m
            WHERE m."deviceId" = d."deviceId" AND m.sha256 = ${sha256} AND m."windowEnd" >= ${since} AND m."tpotP50Ms" > 0) AS "newTps",
          (SELECT avg(1000.0 / x."tpotP50Ms") FROM (SELECT m."tpotP50Ms" FROM "RuntimeMetric" m
            WHERE m."deviceId" = d."deviceId" AND m.sha256 = d."previousSha256" AND m."tpotP50Ms" > 0 ORDER BY m."windowEnd" DESC LIMIT 20) x) AS "oldTps"
        FROM "RolloutDevice" d WHERE d."rolloutId" = ${rolloutId} AND d."ring" = ${ring} AND d."previousSha256" IS NOT NULL AND NOT (d."deviceId" = ANY(${excluded}))`,
    ]);
    return {
      states: states.map((s) => ({ state: s.state, n: s._count._all })),
      loads: loads[0] ?? { ok: 0, failed: 0 },
      requests: requests[0] ?? { total: 0, errors: 0 },
      speeds: speeds.map((s) => ({ newTps: s.newTps === null ? null : Number(s.newTps), oldTps: s.oldTps === null ? null : Number(s.oldTps) })),
    };
  }

  /** `runtime` of the device's latest inventory (unvalidated JSON; the caller parses it). */
  async deviceRuntime(deviceId: string): Promise<unknown> {
    const [row] = await this.db.$queryRaw<{ runtime: unknown }[]>`
      SELECT data->'runtime' AS runtime FROM "InventorySnapshot" WHERE "deviceId" = ${deviceId} ORDER BY "receivedAt" DESC LIMIT 1`;
    return row?.runtime ?? null;
  }

  transitions(rolloutId: string) {
    return this.db.rolloutTransition.findMany({ where: { rolloutId }, orderBy: { at: "asc" }, select: { deviceId: true, ring: true, state: true, at: true } });
  }

  timelines(rolloutId: string) {
    return this.db.rolloutDevice.findMany({ where: { rolloutId, ring: { not: null } }, select: { ring: true, timeline: true } });
  }
}
