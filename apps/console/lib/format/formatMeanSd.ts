/** A benchmark rate as llama-bench prints it: "123.45 ± 2.10"; "—" when the pass did not run. */
export function formatMeanSd(value: { mean: number; stddev: number } | null | undefined): string {
  if (!value) return "—";
  return `${value.mean.toFixed(2)} ± ${value.stddev.toFixed(2)}`;
}
