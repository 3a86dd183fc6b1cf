const STEPS: ReadonlyArray<[limitSec: number, divisor: number, unit: string]> = [
  [60, 1, "s"],
  [3600, 60, "min"],
  [86_400, 3600, "h"],
  [30 * 86_400, 86_400, "d"],
  [365 * 86_400, 30 * 86_400, "mo"],
  [Infinity, 365 * 86_400, "y"],
];

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" when there is no time. */
export function formatRelativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return "—";
  const deltaSec = Math.round((now.getTime() - then) / 1000);
  const abs = Math.abs(deltaSec);
  if (abs < 5) return "just now";
  for (const [limit, divisor, unit] of STEPS) {
    if (abs < limit) {
      const n = Math.floor(abs / divisor);
      // A clock ahead of ours (agent or server skew) still gets a readable label.
      return deltaSec >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return "—";
}
