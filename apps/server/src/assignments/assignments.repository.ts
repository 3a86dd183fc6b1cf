import { Inject, Injectable } from "@nestjs/common";
import type { DeviceAssignment } from "@fleet/db";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export interface AssignmentRow {
  deviceId: string;
  action: "install" | "rollback" | "clear";
  rolloutId: string | null;
  ring: number | null;
  targetPath: string | null;
  sha256: string | null;
}

/** Rows per statement: keeps each statement's JSON parameter a few hundred KB. */
const BATCH = 2000;

/** DeviceAssignment rows: the version counter per device and the signed JWS last issued. */
@Injectable()
export class AssignmentsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /**
   * Reserve the next version of every listed device in one statement per batch: the row is created at version 1 or
   * its version grows by one (never read-then-write, so two writers can never hand out the same version).
   */
  async reserveVersions(rows: AssignmentRow[], issuedAt: Date, expiresAt: Date): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for (let i = 0; i < rows.length; i += BATCH) {
      const json = JSON.stringify(rows.slice(i, i + BATCH));
      const got = await this.db.$queryRaw<{ deviceId: string; version: bigint }[]>`
        INSERT INTO "DeviceAssignment" ("deviceId", "version", "action", "rolloutId", "ring", "targetPath", "sha256", "issuedAt", "expiresAt", "jws")
        SELECT x."deviceId", 1, x."action", x."rolloutId", x."ring", x."targetPath", x."sha256", ${issuedAt}, ${expiresAt}, ''
        FROM jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text, "action" text, "rolloutId" text, "ring" int, "targetPath" text, "sha256" text)
        ON CONFLICT ("deviceId") DO UPDATE SET
          "version" = "DeviceAssignment"."version" + 1, "action" = EXCLUDED."action", "rolloutId" = EXCLUDED."rolloutId",
          "ring" = EXCLUDED."ring", "targetPath" = EXCLUDED."targetPath", "sha256" = EXCLUDED."sha256",
          "issuedAt" = EXCLUDED."issuedAt", "expiresAt" = EXCLUDED."expiresAt"
        RETURNING "deviceId", "version"`;
      for (const r of got) out.set(r.deviceId, r.version);
    }
    return out;
  }

  /** Store the signed JWS of each reserved version (a newer version reserved meanwhile keeps its own). */
  async storeJws(rows: { deviceId: string; version: bigint; jws: string }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      const json = JSON.stringify(rows.slice(i, i + BATCH).map((r) => ({ ...r, version: r.version.toString() })));
      await this.db.$executeRaw`
        UPDATE "DeviceAssignment" d SET "jws" = x."jws"
        FROM jsonb_to_recordset(${json}::jsonb) AS x("deviceId" text, "version" bigint, "jws" text)
        WHERE d."deviceId" = x."deviceId" AND d."version" = x."version"`;
    }
  }

  get(deviceId: string): Promise<DeviceAssignment | null> {
    return this.db.deviceAssignment.findUnique({ where: { deviceId } });
  }

  /** Current assignments that expire before `before` (re-issued so an offline device never finds an expired one). */
  expiringBefore(before: Date, limit: number): Promise<DeviceAssignment[]> {
    return this.db.deviceAssignment.findMany({ where: { expiresAt: { lt: before }, jws: { not: "" } }, orderBy: { expiresAt: "asc" }, take: limit });
  }

  /** sha256 of every revoked catalog entry: each new assignment tells the device to drop them. */
  async revokedSha256(): Promise<string[]> {
    const rows = await this.db.catalogEntry.findMany({ where: { state: "revoked" }, select: { sha256: true }, orderBy: { stateChangedAt: "desc" }, take: 1000 });
    return [...new Set(rows.map((r) => r.sha256))];
  }

  /** Active (not revoked) devices among `ids`. */
  async activeDeviceIds(ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 10_000) {
      const rows = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM "Device" WHERE id = ANY(${ids.slice(i, i + 10_000)}) AND state = 'active'`;
      for (const r of rows) out.add(r.id);
    }
    return out;
  }
}
