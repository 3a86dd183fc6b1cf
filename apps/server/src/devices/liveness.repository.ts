import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { NO_BITMAP_SCANS } from "../reports/reports.repository.js";

export interface SeenDevice {
  id: string;
  lastSeenAt: Date;
  lastSeq: number;
}

@Injectable()
export class LivenessRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /**
   * lastSeenAt / lastSeq of many active devices in one UPDATE; never moves either backwards (another replica may
   * have written a newer one). Rows are locked in id order. Report ingest holds key-share locks on the devices of the
   * batch it stores, which this non-key update neither waits for nor blocks.
   */
  async recordSeen(seen: SeenDevice[]): Promise<void> {
    if (!seen.length) return;
    const rows = [...seen].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = rows.map((r) => r.id);
    // Without bitmap scans the devices are found by primary key, not through the trigram GIN index on id
    // (NO_BITMAP_SCANS in reports.repository.ts: seconds per flush at 10,000 devices otherwise). The update joins the
    // locked ids, not `IN (SELECT id FROM locked)`: misjudging the JSON rows as ~1, the planner checked every device
    // against every locked id (1,667 x 1,667 per flush at 50,000 devices, 370 ms of database CPU; 110 ms joined).
    await this.db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(NO_BITMAP_SCANS);
        await tx.$executeRaw`WITH x AS (SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r("id" text, "lastSeenAt" timestamp(3), "lastSeq" bigint)),
          locked AS MATERIALIZED (SELECT d.id FROM "Device" d WHERE d.id = ANY(${ids}::text[]) AND d.state = 'active' ORDER BY d.id FOR NO KEY UPDATE OF d)
          UPDATE "Device" d SET "lastSeenAt" = GREATEST(COALESCE(d."lastSeenAt", x."lastSeenAt"), x."lastSeenAt"), "lastSeq" = GREATEST(d."lastSeq", x."lastSeq"), "updatedAt" = now()
          FROM x, locked l WHERE l.id = x."id" AND d.id = l.id`;
      },
      // Prisma's default 2 s wait for a connection fails flushes on a loaded machine (retried, but late)
      { maxWait: 10_000, timeout: 30_000 },
    );
  }
}
