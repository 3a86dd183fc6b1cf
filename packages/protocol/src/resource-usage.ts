import { z } from "zod";
import { ZBytes, ZIsoDate, ZSha256Hex } from "./common.js";

// What a device measures about its own resources: sustained speed (thermal), memory pressure of the inference
// host, and the resource policy it applied. A reading a machine cannot give is null with the reason, never a
// made-up number.

/** Whether a sensor could be read on this device; reason says why not ("sensors unavailable: ..."). */
export const ZSensorAvailabilityV1 = z.object({ available: z.boolean(), reason: z.string().max(300).nullable() });

/** One window of the sustained benchmark: generation speed and the machine's state at its end. */
export const ZSustainedSampleV1 = z.object({
  /** seconds since the benchmark started, at the end of this window */
  tSec: z.number().nonnegative(),
  tokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  /** average current CPU frequency; null when the sensor is unavailable */
  cpuFreqMhz: z.number().positive().nullable(),
  /** package / main CPU temperature; null when the sensor is unavailable */
  cpuTempC: z.number().nullable(),
});
export type TSustainedSampleV1 = z.infer<typeof ZSustainedSampleV1>;

/** Throttling verdict: median tokens/s of the last window vs. the first (baseline) window. */
export const ZThrottlingV1 = z.object({
  /** a drop of more than this % from the baseline median counts as throttling */
  thresholdPct: z.number().positive(),
  /** length of the baseline and final windows (the first minute, or the first third of a shorter run) */
  windowSec: z.number().positive(),
  baselineTokensPerSecond: z.number().nonnegative().nullable(),
  finalTokensPerSecond: z.number().nonnegative().nullable(),
  /** positive = slower at the end; null when there were too few samples */
  dropPct: z.number().nullable(),
  detected: z.boolean(),
  /** CPU frequency drop over the same windows; null when the sensor is unavailable */
  frequencyDropPct: z.number().nullable(),
  /** temperature rise over the same windows; null when the sensor is unavailable */
  temperatureRiseC: z.number().nullable(),
  /** one sentence: what was seen and what may explain it */
  summary: z.string().max(500),
});
export type TThrottlingV1 = z.infer<typeof ZThrottlingV1>;

export const ZPowerStateV1 = z.object({
  /** null = the platform does not say (no power supply information) */
  source: z.enum(["ac", "battery"]).nullable(),
  /** Linux ACPI platform profile (e.g. "balanced", "low-power"); null when not readable */
  profile: z.string().max(100).nullable(),
  /** why source or profile is null */
  reason: z.string().max(300).nullable(),
});
export type TPowerStateV1 = z.infer<typeof ZPowerStateV1>;

export const ZSustainedBenchmarkV1 = z.object({
  durationSec: z.number().positive(),
  sampleIntervalSec: z.number().positive(),
  samples: z.array(ZSustainedSampleV1).max(3600),
  sensors: z.object({ cpuFrequency: ZSensorAvailabilityV1, cpuTemperature: ZSensorAvailabilityV1 }),
  powerAtStart: ZPowerStateV1,
  powerAtEnd: ZPowerStateV1,
  throttling: ZThrottlingV1,
});
export type TSustainedBenchmarkV1 = z.infer<typeof ZSustainedBenchmarkV1>;

/**
 * Memory pressure of the inference host over a model load or a request window: peak RSS, major page faults
 * (the host's, /proc/<pid>/stat) and swap activity (the host's VmSwap, the machine's pswpin/pswpout).
 */
export const ZMemoryPressureV1 = z.object({
  scope: z.enum(["load", "window"]),
  at: ZIsoDate,
  modelId: z.string().max(500),
  sha256: ZSha256Hex.nullable(),
  windowSec: z.number().nonnegative(),
  peakRssBytes: ZBytes.nullable(),
  rssBytes: ZBytes.nullable(),
  /** the host's memory swapped out (VmSwap) */
  swapBytes: ZBytes.nullable(),
  majorFaults: z.number().int().nonnegative().nullable(),
  majorFaultsPerSec: z.number().nonnegative().nullable(),
  /** machine-wide pages swapped in / out during the window */
  swapInPages: z.number().int().nonnegative().nullable(),
  swapOutPages: z.number().int().nonnegative().nullable(),
  /** the memory plan said it fits (null = no plan known) */
  plannedToFit: z.boolean().nullable(),
  /** over the device's paging thresholds */
  heavy: z.boolean(),
  /** why heavy, or why figures are missing */
  reason: z.string().max(1000).nullable(),
});
export type TMemoryPressureV1 = z.infer<typeof ZMemoryPressureV1>;

/** The resource policy as this device applies it (posture), with the last background deferral. */
export const ZResourcesAppliedV1 = z.object({
  /** version of the signed device policy applied; null = none received, local defaults */
  policyVersion: z.number().int().nonnegative().nullable(),
  cores: z.number().int().positive(),
  /** the cap on inference threads that results (null = no cap) */
  inferenceThreadsCap: z.number().int().positive().nullable(),
  maxInferenceThreads: z.number().int().positive().nullable(),
  maxCpuSharePct: z.number().int().min(1).max(100).nullable(),
  background: z.object({
    onlyOnAcPower: z.boolean(),
    onlyWhenIdle: z.boolean(),
    idleCpuPctBelow: z.number().int().min(1).max(100),
    nice: z.number().int().min(0).max(19),
    ioniceClass: z.enum(["idle", "best-effort", "none"]),
    /** false when the platform has no ionice (the class is then not applied) */
    ioniceAvailable: z.boolean(),
  }),
  lastDeferral: z.object({ at: ZIsoDate, work: z.string().max(100), reason: z.string().max(500) }).nullable(),
});
export type TResourcesAppliedV1 = z.infer<typeof ZResourcesAppliedV1>;
