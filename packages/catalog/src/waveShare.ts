/** Report ingest at most this far behind: a ring's waves go at the full configured rate. */
export const WAVE_FULL_RATE_BEHIND_MS = 500;
/** Report ingest this far behind or more: waves go at WAVE_MIN_SHARE of the rate. */
export const WAVE_MIN_RATE_BEHIND_MS = 2_000;
/** A rollout still moves under sustained overload, only slowly. */
export const WAVE_MIN_SHARE = 0.1;

/**
 * Share of the configured assignment rate (ROLLOUT_ASSIGN_PER_SEC) for a ring's next wave, given how far behind
 * report ingest is (age of the oldest report in the batches just stored). Every device sent a model sends its own
 * update reports through the install (five or so), on top of the fleet's telemetry: when ingest falls behind, the
 * rollout slows down rather than the whole fleet's telemetry going stale. Linear between the two thresholds.
 */
export function waveShare(ingestBehindMs: number): number {
  if (!(ingestBehindMs > WAVE_FULL_RATE_BEHIND_MS)) return 1;
  if (ingestBehindMs >= WAVE_MIN_RATE_BEHIND_MS) return WAVE_MIN_SHARE;
  const t = (ingestBehindMs - WAVE_FULL_RATE_BEHIND_MS) / (WAVE_MIN_RATE_BEHIND_MS - WAVE_FULL_RATE_BEHIND_MS);
  return 1 - t * (1 - WAVE_MIN_SHARE);
}
