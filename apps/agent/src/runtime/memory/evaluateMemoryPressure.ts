import type { TMemoryPressureV1 } from "@fleet/protocol";
import type { ProcMemory, VmSwapCounters } from "./readProcMemory.js";

export interface MemoryPressureThresholds {
  majorFaultsPerSecAbove: number;
  swapPagesPerSecAbove: number;
  hostSwapBytesAbove: number;
}

export interface PressureWindow {
  scope: TMemoryPressureV1["scope"];
  modelId: string;
  sha256: string | null;
  plannedToFit: boolean | null;
  startedAt: number;
  endedAt: number;
  before: ProcMemory;
  after: ProcMemory;
  swapBefore: VmSwapCounters;
  swapAfter: VmSwapCounters;
  /** false: VmHWM could not be reset, so peakRss is since the process started */
  peakIsWindow: boolean;
}

const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, b - a));
const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Figures and verdict for one load or request window. Heavy = the host's swapped-out memory is above
 * hostSwapBytesAbove, or the machine swaps faster than swapPagesPerSecAbove while the host has memory in swap, or
 * (request windows only) the host takes more than majorFaultsPerSecAbove major faults per second. A load's major
 * faults are the model file being read in (expected), so they never make a load heavy on their own.
 */
export function evaluateMemoryPressure(w: PressureWindow, t: MemoryPressureThresholds): TMemoryPressureV1 {
  const sec = Math.max(0.001, (w.endedAt - w.startedAt) / 1000);
  const majorFaults = delta(w.before.majorFaults, w.after.majorFaults);
  const swapIn = delta(w.swapBefore.pswpin, w.swapAfter.pswpin);
  const swapOut = delta(w.swapBefore.pswpout, w.swapAfter.pswpout);
  const majorFaultsPerSec = majorFaults === null ? null : round(majorFaults / sec);
  const swapPagesPerSec = swapIn === null || swapOut === null ? null : (swapIn + swapOut) / sec;
  const reasons: string[] = [];
  const swapBytes = w.after.swapBytes;
  if (swapBytes !== null && swapBytes > t.hostSwapBytesAbove) reasons.push(`${Math.round(swapBytes / 2 ** 20)} MiB of the inference host is swapped out (> ${Math.round(t.hostSwapBytesAbove / 2 ** 20)} MiB)`);
  if (swapPagesPerSec !== null && swapPagesPerSec > t.swapPagesPerSecAbove && (swapBytes ?? 0) > 0) {
    reasons.push(`the machine swaps ${Math.round(swapPagesPerSec)} pages/s (> ${t.swapPagesPerSecAbove}) with host memory in swap`);
  }
  if (w.scope === "window" && majorFaultsPerSec !== null && majorFaultsPerSec > t.majorFaultsPerSecAbove) {
    reasons.push(`${Math.round(majorFaultsPerSec)} major page faults/s while serving (> ${t.majorFaultsPerSecAbove})`);
  }
  const missing = [w.after.majorFaults === null ? "major faults" : null, w.after.peakRssBytes === null ? "RSS" : null, swapIn === null ? "swap counters" : null].filter(Boolean);
  const notes = [...(missing.length ? [`unavailable on this platform: ${missing.join(", ")}`] : []), ...(w.peakIsWindow ? [] : ["peak RSS is since the host started"])];
  const heavy = reasons.length > 0;
  return {
    scope: w.scope,
    at: new Date(w.endedAt).toISOString(),
    modelId: w.modelId.slice(0, 500),
    sha256: w.sha256,
    windowSec: round(sec),
    peakRssBytes: w.after.peakRssBytes,
    rssBytes: w.after.rssBytes,
    swapBytes,
    majorFaults,
    majorFaultsPerSec,
    swapInPages: swapIn,
    swapOutPages: swapOut,
    plannedToFit: w.plannedToFit,
    heavy,
    reason: heavy ? [...reasons, ...notes].join("; ").slice(0, 1000) : notes.length ? notes.join("; ").slice(0, 1000) : null,
  };
}
