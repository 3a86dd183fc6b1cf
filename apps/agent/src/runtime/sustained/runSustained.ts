import { performance } from "node:perf_hooks";
import type { TSustainedBenchmarkV1, TSustainedSampleV1 } from "@fleet/protocol";
import { readCpuSensors, readPowerState, type CpuSensors } from "../../resources/readMachineState.js";
import { detectThrottling } from "./detectThrottling.js";

export interface SustainedOptions {
  durationSec: number;
  sampleIntervalSec: number;
  throttleDropPct: number;
  /** generate continuously for `ms` and say how many tokens came out (the inference host's generation window) */
  generate(ms: number): Promise<{ tokens: number; ms: number }>;
  /** platform readings; the defaults read the machine (systeminformation, ACPI) */
  sensors?: () => Promise<CpuSensors>;
  power?: typeof readPowerState;
  signal?: AbortSignal;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The sustained mode of the standard benchmark: back-to-back generation windows of sampleIntervalSec for
 * durationSec, tokens/s per window with the CPU frequency and temperature read at its end, power at start and end,
 * and the throttling verdict. Sensors that are absent stay null with the reason.
 */
export async function runSustained(o: SustainedOptions): Promise<TSustainedBenchmarkV1> {
  const readSensors = o.sensors ?? readCpuSensors;
  const readPower = o.power ?? readPowerState;
  const powerAtStart = await readPower();
  const samples: TSustainedSampleV1[] = [];
  let freqReason: string | null = null;
  let tempReason: string | null = null;
  let anyFreq = false;
  let anyTemp = false;
  const t0 = performance.now();
  const windowMs = o.sampleIntervalSec * 1000;
  while ((performance.now() - t0) / 1000 < o.durationSec - 0.05) {
    o.signal?.throwIfAborted();
    const left = o.durationSec * 1000 - (performance.now() - t0);
    const w = await o.generate(Math.max(100, Math.min(windowMs, Math.round(left))));
    const s = await readSensors();
    anyFreq ||= s.cpuFreqMhz !== null;
    anyTemp ||= s.cpuTempC !== null;
    freqReason ??= s.freqReason;
    tempReason ??= s.tempReason;
    samples.push({
      tSec: round((performance.now() - t0) / 1000),
      tokens: w.tokens,
      tokensPerSecond: w.ms > 0 ? round((w.tokens * 1000) / w.ms) : 0,
      cpuFreqMhz: s.cpuFreqMhz,
      cpuTempC: s.cpuTempC === null ? null : round(s.cpuTempC, 1),
    });
  }
  const durationSec = round((performance.now() - t0) / 1000);
  return {
    durationSec,
    sampleIntervalSec: o.sampleIntervalSec,
    samples,
    sensors: {
      cpuFrequency: { available: anyFreq, reason: anyFreq ? null : freqReason },
      cpuTemperature: { available: anyTemp, reason: anyTemp ? null : tempReason },
    },
    powerAtStart,
    powerAtEnd: await readPower(),
    throttling: detectThrottling(samples, o.durationSec, o.throttleDropPct),
  };
}
