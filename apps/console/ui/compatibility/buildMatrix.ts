import { RUNNABLE_CLASSES, type TCompatibilityClass, type TCompatibilitySummaryV1 } from "@fleet/protocol";

export interface MatrixCell {
  /** devices where the model runs (gpu-full, gpu-partial, cpu-only) */
  runnable: number;
  total: number;
}

export interface Matrix {
  hardwareClasses: string[];
  rows: { entryId: string; targetPath: string; cells: Record<string, MatrixCell> }[];
}

function cell(counts: Partial<Record<TCompatibilityClass, number>>): MatrixCell {
  let runnable = 0;
  let total = 0;
  for (const [cls, n] of Object.entries(counts) as [TCompatibilityClass, number][]) {
    total += n;
    if (RUNNABLE_CLASSES.includes(cls)) runnable += n;
  }
  return { runnable, total };
}

/** Entries x hardware classes from the per-entry summaries; columns are the union of classes seen, sorted. */
export function buildMatrix(summaries: readonly TCompatibilitySummaryV1[]): Matrix {
  const classes = new Set<string>();
  const rows = summaries.map((s) => {
    const cells: Record<string, MatrixCell> = {};
    for (const h of s.byHardwareClass) {
      classes.add(h.hardwareClass);
      cells[h.hardwareClass] = cell(h.counts);
    }
    return { entryId: s.entryId, targetPath: s.targetPath, cells };
  });
  return { hardwareClasses: [...classes].sort(), rows };
}
