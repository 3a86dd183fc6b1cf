import { ROLLOUT_DEVICE_STATES, ZRingSpecV1, type TGateResultV1, type TRingSpecV1, type TRolloutDeviceState, type TRolloutDeviceViewV1, type TRolloutV1 } from "@fleet/protocol";
import { z } from "zod";
import type { RingCounts, RolloutWithEntry } from "./rollouts.repository.js";

/** Per ring, what the scheduler recorded (Rollout.ringHistory[i]). */
export const ZRingHistory = z.object({
  startedAt: z.string().nullable().default(null),
  soakStartedAt: z.string().nullable().default(null),
  passedAt: z.string().nullable().default(null),
  failedAt: z.string().nullable().default(null),
  /** devices an admin rolled back one by one: not install failures, left out of the ring's gates */
  excluded: z.array(z.string()).default([]),
  gates: z.array(z.object({ gate: z.string(), value: z.number().nullable(), threshold: z.number().nullable(), pass: z.boolean(), detail: z.string() })).default([]),
});
export type RingHistory = z.infer<typeof ZRingHistory>;

export function ringsOf(json: unknown): TRingSpecV1[] {
  return z.array(ZRingSpecV1).parse(json);
}

export function historyOf(json: unknown, rings: number): RingHistory[] {
  const parsed = z.array(ZRingHistory).safeParse(json);
  const list = parsed.success ? parsed.data : [];
  return Array.from({ length: rings }, (_, i) => list[i] ?? ZRingHistory.parse({}));
}

export function zeroCounts(): Record<TRolloutDeviceState, number> {
  return Object.fromEntries(ROLLOUT_DEVICE_STATES.map((s) => [s, 0])) as Record<TRolloutDeviceState, number>;
}

export function soakEndsAt(h: RingHistory, spec: TRingSpecV1): Date | null {
  return h.soakStartedAt ? new Date(Date.parse(h.soakStartedAt) + spec.soakSec * 1000) : null;
}

export function toRolloutView(r: RolloutWithEntry, counts: RingCounts[]): TRolloutV1 {
  const rings = ringsOf(r.rings);
  const hist = historyOf(r.ringHistory, rings.length);
  const totals = zeroCounts();
  const perRing = rings.map(() => zeroCounts());
  for (const c of counts) {
    totals[c.state] += c.n;
    if (c.ring !== null && perRing[c.ring]) perRing[c.ring]![c.state] += c.n;
  }
  return {
    id: r.id,
    entryId: r.entryId,
    targetPath: r.entry.targetPath,
    sha256: r.entry.sha256,
    group: r.group,
    state: r.state,
    currentRing: r.currentRing,
    reason: r.reason,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    completedAt: r.completedAt?.toISOString() ?? null,
    rings: rings.map((spec, i) => ({
      index: i,
      spec,
      devices: Object.values(perRing[i]!).reduce((a, b) => a + b, 0),
      counts: perRing[i]!,
      startedAt: hist[i]!.startedAt,
      soakEndsAt: soakEndsAt(hist[i]!, spec)?.toISOString() ?? null,
      passedAt: hist[i]!.passedAt,
      gates: hist[i]!.gates as TGateResultV1[],
    })),
    totals,
  };
}

export function toDeviceView(row: {
  deviceId: string;
  device: { hostname: string };
  ring: number | null;
  state: TRolloutDeviceState;
  code: string | null;
  reason: string | null;
  bytesDone: bigint | null;
  bytesTotal: bigint | null;
  previousTarget: string | null;
  assignmentVersion: bigint | null;
  stateAt: Date;
  timeline: unknown;
}): TRolloutDeviceViewV1 {
  return {
    deviceId: row.deviceId,
    hostname: row.device.hostname,
    ring: row.ring,
    state: row.state,
    code: row.code,
    reason: row.reason,
    bytesDone: row.bytesDone === null ? null : Number(row.bytesDone),
    bytesTotal: row.bytesTotal === null ? null : Number(row.bytesTotal),
    previousTarget: row.previousTarget,
    assignmentVersion: row.assignmentVersion === null ? null : Number(row.assignmentVersion),
    stateAt: row.stateAt.toISOString(),
    timeline: (row.timeline ?? {}) as Record<string, string>,
  };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Adoption: replay the transitions into `buckets` snapshots of devices per state between the start and `end`, and
 * per ring the seconds from pending to active (from each device's timeline).
 */
export function adoption(
  transitions: { deviceId: string; state: TRolloutDeviceState; at: Date }[],
  timelines: { ring: number | null; timeline: unknown }[],
  start: Date,
  end: Date,
  buckets = 24,
) {
  const span = Math.max(1, end.getTime() - start.getTime());
  const state = new Map<string, TRolloutDeviceState>();
  const out: { at: string; counts: Record<TRolloutDeviceState, number> }[] = [];
  let k = 0;
  for (let b = 1; b <= buckets; b++) {
    const at = start.getTime() + (span * b) / buckets;
    while (k < transitions.length && transitions[k]!.at.getTime() <= at) {
      state.set(transitions[k]!.deviceId, transitions[k]!.state);
      k++;
    }
    const counts = zeroCounts();
    for (const s of state.values()) counts[s]++;
    out.push({ at: new Date(at).toISOString(), counts });
  }
  const perRing = new Map<number, number[]>();
  for (const t of timelines) {
    const tl = (t.timeline ?? {}) as Record<string, string>;
    if (t.ring === null || !tl.pending || !tl.active) continue;
    const sec = (Date.parse(tl.active) - Date.parse(tl.pending)) / 1000;
    if (!Number.isFinite(sec)) continue;
    const xs = perRing.get(t.ring) ?? [];
    xs.push(Math.max(0, sec));
    perRing.set(t.ring, xs);
  }
  const timeToActiveSec = [...perRing.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([ring, xs]) => {
      const s = xs.sort((a, b) => a - b);
      return { ring, p50: percentile(s, 50), p95: percentile(s, 95), n: s.length };
    });
  return { buckets: out, timeToActiveSec };
}
