import type { TGateResultV1, TGatesV1 } from "@fleet/protocol";

/** What a ring's devices did during its install and soak, as the scheduler counts it. */
export interface RingStats {
  devices: number;
  active: number;
  failed: number;
  rolledBack: number;
  /** pending, downloading, verifying or testing */
  inProgress: number;
  /** model loads the devices reported during the soak */
  loads: { ok: number; failed: number };
  requests: { total: number; errors: number };
  /** per device: tokens/s of the new model / tokens/s of its previous model */
  tokensPerSecRatios: number[];
}

export interface GateEvaluation {
  pass: boolean;
  results: TGateResultV1[];
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Install failures (failed + rolled back) over the ring's devices, 0 for an empty ring. */
export function ringFailureRate(stats: RingStats): number {
  return stats.devices > 0 ? (stats.failed + stats.rolledBack) / stats.devices : 0;
}

/**
 * Every gate of a ring with its measured value, threshold and a sentence naming both. A gate with nothing
 * to measure (no loads, no requests, no speed comparison, an empty ring) passes and says so. The success
 * minimum is capped at the ring's size, so a one-device canary can pass a minimum of 2.
 */
export function evaluateGates(stats: RingStats, gates: TGatesV1): GateEvaluation {
  const results: TGateResultV1[] = [];
  const add = (gate: string, value: number | null, threshold: number | null, pass: boolean, detail: string) =>
    results.push({ gate, value, threshold, pass, detail });

  const failures = stats.failed + stats.rolledBack;
  const failureRate = ringFailureRate(stats);
  add("maxFailureRate", stats.devices > 0 ? failureRate : null, gates.maxFailureRate, failureRate <= gates.maxFailureRate,
    `install failure rate ${fmt(failureRate)} (${failures} of ${stats.devices} devices failed or rolled back) ${failureRate <= gates.maxFailureRate ? "is within" : "exceeds"} the maximum ${fmt(gates.maxFailureRate)}`);

  const needed = Math.min(gates.minSuccesses, stats.devices);
  add("minSuccesses", stats.active, needed, stats.active >= needed,
    `${stats.active} devices active, ${stats.active >= needed ? "at least" : "fewer than"} the minimum ${needed}` +
      (needed < gates.minSuccesses ? ` (${gates.minSuccesses} capped at the ring's ${stats.devices} devices)` : ""));

  const loads = stats.loads.ok + stats.loads.failed;
  if (loads === 0) add("minLoadSuccessRate", null, gates.minLoadSuccessRate, true, "no model loads reported during the soak");
  else {
    const rate = stats.loads.ok / loads;
    add("minLoadSuccessRate", rate, gates.minLoadSuccessRate, rate >= gates.minLoadSuccessRate,
      `load success rate ${fmt(rate)} (${stats.loads.ok} of ${loads} loads) ${rate >= gates.minLoadSuccessRate ? "meets" : "is below"} the minimum ${fmt(gates.minLoadSuccessRate)}`);
  }

  if (stats.requests.total === 0) add("maxErrorRate", null, gates.maxErrorRate, true, "no inference requests during the soak");
  else {
    const rate = stats.requests.errors / stats.requests.total;
    add("maxErrorRate", rate, gates.maxErrorRate, rate <= gates.maxErrorRate,
      `request error rate ${fmt(rate)} (${stats.requests.errors} of ${stats.requests.total} requests) ${rate <= gates.maxErrorRate ? "is within" : "exceeds"} the maximum ${fmt(gates.maxErrorRate)}`);
  }

  const ratios = stats.tokensPerSecRatios.filter((r) => Number.isFinite(r) && r >= 0);
  if (gates.minTokensPerSecRatio === null) add("minTokensPerSecRatio", ratios.length > 0 ? median(ratios) : null, null, true, "tokens/s ratio not gated");
  else if (ratios.length === 0) add("minTokensPerSecRatio", null, gates.minTokensPerSecRatio, true, "no device could compare tokens/s with its previous model");
  else {
    const m = median(ratios);
    add("minTokensPerSecRatio", m, gates.minTokensPerSecRatio, m >= gates.minTokensPerSecRatio,
      `median tokens/s ratio to the previous model ${fmt(m)} over ${ratios.length} devices ${m >= gates.minTokensPerSecRatio ? "meets" : "is below"} the minimum ${fmt(gates.minTokensPerSecRatio)}`);
  }
  return { pass: results.every((r) => r.pass), results };
}
