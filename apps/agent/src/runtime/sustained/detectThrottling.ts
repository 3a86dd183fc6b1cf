import type { TSustainedSampleV1, TThrottlingV1 } from "@fleet/protocol";

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const values = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);

/** The comparison window: the first minute, or the first third of a run shorter than three minutes. */
export function throttlingWindowSec(durationSec: number): number {
  return Math.round(Math.min(60, durationSec / 3) * 100) / 100;
}

/**
 * Throttling = the median tokens/s of the final window is more than `thresholdPct` below the median of the first
 * window (both `throttlingWindowSec` long). CPU frequency and temperature over the same windows say whether the
 * machine slowed itself down; a drop without them may just be other work on the machine.
 */
export function detectThrottling(samples: TSustainedSampleV1[], durationSec: number, thresholdPct: number): TThrottlingV1 {
  const windowSec = throttlingWindowSec(durationSec);
  const end = samples.length ? samples[samples.length - 1]!.tSec : 0;
  const first = samples.filter((s) => s.tSec <= windowSec + 1e-9);
  const last = samples.filter((s) => s.tSec >= end - windowSec - 1e-9 && !first.includes(s));
  const base = median(first.map((s) => s.tokensPerSecond));
  const fin = median(last.map((s) => s.tokensPerSecond));
  const none: TThrottlingV1 = {
    thresholdPct,
    windowSec,
    baselineTokensPerSecond: base,
    finalTokensPerSecond: fin,
    dropPct: null,
    detected: false,
    frequencyDropPct: null,
    temperatureRiseC: null,
    summary: "too few samples to compare the first and the last window",
  };
  if (base === null || fin === null || base === 0) return none;
  const dropPct = round(((base - fin) / base) * 100);
  const f0 = median(values(first.map((s) => s.cpuFreqMhz)));
  const f1 = median(values(last.map((s) => s.cpuFreqMhz)));
  const t0 = median(values(first.map((s) => s.cpuTempC)));
  const t1 = median(values(last.map((s) => s.cpuTempC)));
  const frequencyDropPct = f0 !== null && f1 !== null && f0 > 0 ? round(((f0 - f1) / f0) * 100) : null;
  const temperatureRiseC = t0 !== null && t1 !== null ? round(t1 - t0, 1) : null;
  const detected = dropPct > thresholdPct;
  const cause = !detected
    ? ""
    : frequencyDropPct !== null && frequencyDropPct > thresholdPct / 2
      ? `; CPU frequency fell ${frequencyDropPct}%${temperatureRiseC !== null ? ` while the temperature rose ${temperatureRiseC} °C` : ""} (thermal or power throttling)`
      : frequencyDropPct === null && temperatureRiseC === null
        ? "; sensors unavailable, so the cause (heat, power limits or other work on the machine) cannot be told"
        : "; the CPU frequency held, so other work on the machine is the likelier cause";
  return {
    ...none,
    dropPct,
    detected,
    frequencyDropPct,
    temperatureRiseC,
    summary: `${detected ? "throttling" : "no throttling"}: ${round(base)} → ${round(fin)} tokens/s (${dropPct > 0 ? "-" : "+"}${Math.abs(dropPct)}%, threshold ${thresholdPct}%)${cause}`,
  };
}
