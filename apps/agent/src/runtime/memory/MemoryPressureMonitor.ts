import type { TMemoryPressureV1 } from "@fleet/protocol";
import { evaluateMemoryPressure, type MemoryPressureThresholds } from "./evaluateMemoryPressure.js";
import { readProcMemory, readVmSwapCounters, resetPeakRss, type ProcMemory, type VmSwapCounters } from "./readProcMemory.js";

export interface PressureMark {
  pid: number;
  at: number;
  mem: ProcMemory;
  swap: VmSwapCounters;
  peakIsWindow: boolean;
}

/** Marks the start of a load or request window on a process and measures its memory pressure at the end. */
export class MemoryPressureMonitor {
  constructor(private readonly thresholds: MemoryPressureThresholds) {}

  mark(pid: number): PressureMark {
    const peakIsWindow = resetPeakRss(pid);
    return { pid, at: Date.now(), mem: readProcMemory(pid), swap: readVmSwapCounters(), peakIsWindow };
  }

  /** Figures since `mark`; null when the process changed (the host restarted) in between. */
  measure(
    mark: PressureMark,
    pid: number | null,
    w: { scope: TMemoryPressureV1["scope"]; modelId: string; sha256: string | null; plannedToFit: boolean | null },
  ): TMemoryPressureV1 | null {
    if (pid !== mark.pid) return null;
    return evaluateMemoryPressure(
      { ...w, startedAt: mark.at, endedAt: Date.now(), before: mark.mem, after: readProcMemory(pid), swapBefore: mark.swap, swapAfter: readVmSwapCounters(), peakIsWindow: mark.peakIsWindow },
      this.thresholds,
    );
  }
}
