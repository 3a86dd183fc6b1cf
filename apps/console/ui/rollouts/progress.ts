import type { TRolloutDeviceState, TRolloutV1 } from "@fleet/protocol";

type Counts = Partial<Record<TRolloutDeviceState, number>>;

/** Devices that were or will be sent the model (skipped devices never are). */
export function targeted(counts: Counts): number {
  return Object.entries(counts).reduce((n, [state, c]) => (state === "skipped" ? n : n + (c ?? 0)), 0);
}

/** "3 / 10 active (30%)" for a rollout or a ring; the share of targeted devices that reached active. */
export function progressText(counts: Counts): string {
  const total = targeted(counts);
  const active = counts.active ?? 0;
  const pct = total === 0 ? 0 : Math.round((active / total) * 100);
  return `${active} / ${total} active (${pct}%)`;
}

/** The name of the ring the rollout is in (or its index when out of range). */
export function currentRingName(r: Pick<TRolloutV1, "rings" | "currentRing">): string {
  const ring = r.rings[r.currentRing];
  return ring ? `${r.currentRing + 1}. ${ring.spec.name}` : `ring ${r.currentRing + 1}`;
}
