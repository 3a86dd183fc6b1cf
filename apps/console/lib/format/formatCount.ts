const SCALES: ReadonlyArray<[number, string]> = [
  [1e12, "T"],
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "K"],
];

/** Large counts such as parameters: "7.24 B", "1.00 M", "512"; "—" when unknown. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  for (const [scale, suffix] of SCALES) {
    if (Math.abs(n) >= scale) return `${(n / scale).toFixed(2)} ${suffix}`;
  }
  return String(Math.round(n));
}
