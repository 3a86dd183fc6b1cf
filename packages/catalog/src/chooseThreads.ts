/**
 * Thread counts worth probing on a machine with `cores` usable cores: 1, half, all. More threads than
 * cores makes ggml's busy-waiting workers fight (35x slower on 2 cores, see NOTES-llama), so never more.
 */
export function threadCandidates(cores: number): number[] {
  const n = Math.max(1, Math.floor(cores));
  return [...new Set([1, Math.max(1, Math.floor(n / 2)), n])].sort((a, b) => a - b);
}

export interface ThreadProbe {
  threads: number;
  tokensPerSecond: number;
}

/**
 * The fastest probe; a larger count must beat a smaller one by more than `margin` (default 3 %, about the
 * run-to-run noise) to be chosen, since extra threads cost the user's other applications.
 */
export function chooseThreads(probes: ThreadProbe[], margin = 0.03): number {
  const valid = probes.filter((p) => p.threads > 0 && Number.isFinite(p.tokensPerSecond) && p.tokensPerSecond > 0);
  if (valid.length === 0) throw new RangeError("chooseThreads needs at least one probe with a positive speed");
  const sorted = [...valid].sort((a, b) => a.threads - b.threads);
  let best = sorted[0]!;
  for (const p of sorted.slice(1)) if (p.tokensPerSecond > best.tokensPerSecond * (1 + margin)) best = p;
  return best.threads;
}
