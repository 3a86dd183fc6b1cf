import type { TReportV1 } from "@fleet/protocol";

/** The arrival times of one batch: the wall clock when it was stamped, and each report's own receivedAt. */
export interface BatchArrival {
  at: Date;
  stampOf: ReadonlyMap<TReportV1, Date>;
}

/**
 * receivedAt stamps that keep each device's order: histories and "latest" lookups read newest first by receivedAt
 * (millisecond precision). A device's reports are stamped from the wall clock, 1 ms apart in stream order, and never
 * at or before a stamp this clock already gave that device: Date.now() repeats within a millisecond, and a batch with
 * several reports of one device reaches that many ms ahead, so the device's next batch stamped by the wall clock
 * alone could sort before the one it follows. Only a device sending faster than one report per ms (a long queue
 * replayed) runs ahead of the wall clock, and only its own stamps do.
 */
export class ArrivalClock {
  /** the earliest stamp each device may get next, kept only while it lies ahead of the wall clock */
  private readonly nextOf = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  stamp(reports: readonly TReportV1[]): BatchArrival {
    const now = this.now();
    for (const [id, next] of this.nextOf) if (next <= now) this.nextOf.delete(id);
    const stampOf = new Map<TReportV1, Date>();
    for (const r of reports) {
      const ms = Math.max(now, this.nextOf.get(r.deviceId) ?? now);
      this.nextOf.set(r.deviceId, ms + 1);
      stampOf.set(r, new Date(ms));
    }
    return { at: new Date(now), stampOf };
  }
}
