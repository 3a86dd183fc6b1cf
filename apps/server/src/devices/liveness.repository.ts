import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export interface SeenDevice {
  id: string;
  lastSeenAt: Date;
  lastSeq: number;
}

/**
 * Upsert of DeviceLiveness rows from a JSON array of {id, lastSeenAt, lastSeq} ($1) for the active devices among
 * the ids $2. Neither value moves backwards (another replica, or an ingest batch, may have written a newer one).
 * Rows are produced, and so locked, in id order: two replicas' flushes and the ingest batches that write the
 * liveness of devices coming online (reports.repository.ts) take them in the same order and cannot deadlock.
 * Only active devices get a row: a device gone since its report was marked is skipped, not a failed flush.
 */
export const UPSERT_LIVENESS = `INSERT INTO "DeviceLiveness" AS l ("deviceId", "lastSeenAt", "lastSeq")
  SELECT x.id, x."lastSeenAt", x."lastSeq"
  FROM json_to_recordset($1::json) AS x("id" text, "lastSeenAt" timestamp(3), "lastSeq" bigint)
  JOIN "Device" d ON d.id = x.id
  WHERE d.id = ANY($2::text[]) AND d.state = 'active'
  ORDER BY x.id
  ON CONFLICT ("deviceId") DO UPDATE SET "lastSeenAt" = GREATEST(l."lastSeenAt", EXCLUDED."lastSeenAt"), "lastSeq" = GREATEST(l."lastSeq", EXCLUDED."lastSeq")`;

@Injectable()
export class LivenessRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /**
   * lastSeenAt / lastSeq of many devices in one statement (UPSERT_LIVENESS). It writes DeviceLiveness only: Device,
   * whose rows each ingest batch key-share locks, is read, never updated, so the two do not wait on each other.
   */
  async recordSeen(seen: SeenDevice[]): Promise<void> {
    if (!seen.length) return;
    await this.db.$executeRawUnsafe(UPSERT_LIVENESS, JSON.stringify(seen), seen.map((s) => s.id));
  }
}
