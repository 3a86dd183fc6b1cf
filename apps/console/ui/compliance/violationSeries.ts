import type { TComplianceViolationV1 } from "@fleet/protocol";

export interface ViolationDay {
  day: string;
  opened: number;
  resolved: number;
  open: number;
}

const DAY_MS = 86_400_000;

/**
 * Daily opened / resolved / still-open counts for the `days` days ending today (UTC), from the violations list
 * (the server has no series endpoint). A violation is open at the end of a day if it was first seen by then and
 * not resolved by then.
 */
export function violationSeries(items: Pick<TComplianceViolationV1, "firstSeenAt" | "resolvedAt">[], now: Date, days = 30): ViolationDay[] {
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY_MS;
  const out: ViolationDay[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const dayEnd = end - i * DAY_MS;
    const dayStart = dayEnd - DAY_MS;
    let opened = 0;
    let resolved = 0;
    let open = 0;
    for (const v of items) {
      const first = Date.parse(v.firstSeenAt);
      const res = v.resolvedAt ? Date.parse(v.resolvedAt) : null;
      if (first >= dayStart && first < dayEnd) opened++;
      if (res !== null && res >= dayStart && res < dayEnd) resolved++;
      if (first < dayEnd && (res === null || res >= dayEnd)) open++;
    }
    out.push({ day: new Date(dayStart).toISOString().slice(0, 10), opened, resolved, open });
  }
  return out;
}
