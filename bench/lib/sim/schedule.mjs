// When each simulated device sends each report kind: every kind on its agent interval, every device at its own
// random phase within it (a fleet in steady state, not one booting at once). Time is simulated seconds; the
// caller advances it at `compression` × wall time.
import { rng } from "./fleet.mjs";

/**
 * The agent's defaults (apps/agent config): heartbeat 30 s, models rescan and posture 300 s, inventory 3600 s;
 * metrics every 60 s. The agent skips an unchanged inventory/models/posture; the simulator sends them all (worst case).
 */
export const INTERVALS_SEC = { heartbeat: 30, metrics: 60, models: 300, posture: 300, inventory: 3600 };

/** Per kind: device indices ordered by phase, so the devices due in a window are found by binary search. */
export function makeSchedule(devices, intervals = INTERVALS_SEC, seed = 7) {
  const r = rng(seed);
  return Object.entries(intervals).map(([kind, interval]) => {
    const phases = Float64Array.from({ length: devices }, () => r() * interval);
    const order = Uint32Array.from({ length: devices }, (_, i) => i).sort((a, b) => phases[a] - phases[b]);
    const sorted = Float64Array.from(order, (i) => phases[i]);
    return { kind, interval, order, sorted };
  });
}

/** First index in sorted with value >= x. */
function lowerBound(sorted, x) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Calls due(deviceIndex, kind) for every report due in simulated time [a, b). */
export function forEachDue(schedule, a, b, due) {
  for (const { kind, interval, order, sorted } of schedule) {
    for (let cycle = Math.floor(a / interval); cycle * interval < b; cycle++) {
      const from = Math.max(a - cycle * interval, 0);
      const to = Math.min(b - cycle * interval, interval);
      for (let k = lowerBound(sorted, from), end = lowerBound(sorted, to); k < end; k++) due(order[k], kind);
    }
  }
}

/** Reports per simulated second for a fleet of n devices. */
export const reportsPerSimSecond = (n, intervals = INTERVALS_SEC) => Object.values(intervals).reduce((s, i) => s + n / i, 0);
