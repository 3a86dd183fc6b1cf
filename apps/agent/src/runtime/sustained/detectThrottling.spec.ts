import { describe, expect, it } from "vitest";
import type { TSustainedSampleV1 } from "@fleet/protocol";
import { detectThrottling, median, throttlingWindowSec } from "./detectThrottling.js";
import { readCpuSensors } from "../../resources/readMachineState.js";

// Series recorded with runSustained on the tiny model, 1 thread, 1 s windows, on the shared 2-vCPU CI VM
// (no cpufreq, no thermal sensors) on 2026-11-28. [tSec, tokens/s]
const STEADY_20S: [number, number][] = [
  [1.02, 1151.94], [2.04, 1324.44], [3.06, 1561.76], [4.07, 1654.28], [5.09, 1701.92], [6.1, 1753.58], [7.12, 1831.94],
  [8.13, 1566.12], [9.15, 1607.54], [10.16, 1611.12], [11.18, 1900.96], [12.19, 1954.49], [13.2, 1947.38], [14.22, 1905.92],
  [15.23, 2059.73], [16.24, 2137.01], [17.25, 2042.64], [18.27, 1955.31], [19.28, 2018.61], [20.01, 2028.73],
];
// 12 s, a 3-thread CPU-bound process started beside it after ~6 s (what a throttled machine looks like, minus sensors)
const SLOWED_12S: [number, number][] = [
  [1.05, 1522.55], [2.09, 1025.65], [3.15, 959.88], [4.19, 1053.59], [5.22, 810.15], [6.28, 534.87], [7.35, 434.82],
  [8.44, 409.59], [9.48, 663.22], [10.51, 1020.77], [11.55, 1133.2], [12.03, 725.55],
];
const series = (s: [number, number][], freq?: (t: number) => number, temp?: (t: number) => number): TSustainedSampleV1[] =>
  s.map(([tSec, tps]) => ({ tSec, tokens: Math.round(tps), tokensPerSecond: tps, cpuFreqMhz: freq ? freq(tSec) : null, cpuTempC: temp ? temp(tSec) : null }));

describe("throttling detection", () => {
  it("compares the first and the last window (the first minute, or a third of a short run)", () => {
    expect(throttlingWindowSec(600)).toBe(60);
    expect(throttlingWindowSec(12)).toBe(4);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
  });

  it("a run that got faster is not throttling, and sensors-unavailable stays null", () => {
    const t = detectThrottling(series(STEADY_20S), 20, 10);
    expect(t.detected).toBe(false);
    expect(t.baselineTokensPerSecond).toBeCloseTo(1608.02, 1); // median of the first 6.67 s
    expect(t.dropPct).toBeLessThan(0);
    expect(t.frequencyDropPct).toBeNull();
    expect(t.temperatureRiseC).toBeNull();
    expect(t.summary).toMatch(/^no throttling/);
  });

  it("a drop beyond the threshold is throttling; without sensors the cause is not guessed", () => {
    const t = detectThrottling(series(SLOWED_12S), 12, 10);
    expect(t.detected).toBe(true);
    expect(t.dropPct).toBeCloseTo(29.26, 1);
    expect(t.summary).toMatch(/sensors unavailable/);
    // the same drop under a laxer threshold is not throttling
    expect(detectThrottling(series(SLOWED_12S), 12, 40).detected).toBe(false);
  });

  it("with frequency and temperature readings (injected at the platform boundary) the cause is named", () => {
    const t = detectThrottling(series(SLOWED_12S, (s) => (s < 5 ? 3600 : 2400), (s) => (s < 5 ? 62 : 91)), 12, 10);
    expect(t.frequencyDropPct).toBeCloseTo(33.33, 1);
    expect(t.temperatureRiseC).toBe(29);
    expect(t.summary).toMatch(/thermal or power throttling/);
  });

  it("too few samples give no verdict rather than a made-up one", () => {
    const t = detectThrottling([], 10, 10);
    expect(t).toMatchObject({ detected: false, dropPct: null, baselineTokensPerSecond: null });
  });

  it("reads this machine's sensors: a number when present, else null with the reason", async () => {
    const s = await readCpuSensors();
    expect(s.cpuFreqMhz === null ? s.freqReason : s.cpuFreqMhz).toBeTruthy();
    if (s.cpuFreqMhz === null) expect(s.freqReason).toMatch(/^sensors unavailable/);
    if (s.cpuTempC === null) expect(s.tempReason).toMatch(/^sensors unavailable/);
    else expect(s.tempReason).toBeNull();
  });
});
