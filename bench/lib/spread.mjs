// The spread beside a median: min / median / max and a distribution-free 95 % confidence interval of the median
// (order statistics: the ranks j..k with P(rank j <= true median <= rank k) >= 0.95 under Binomial(n, 1/2)).
import { median, round } from "./stats.mjs";

function binomCdf(k, n) {
  // P(X <= k), X ~ Binomial(n, 1/2)
  let c = 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) c = (c * (n - i + 1)) / i;
    sum += c;
  }
  return sum / 2 ** n;
}

/** { n, min, median, max, ci95: [lo, hi], ciCoverage } of a list of numbers (ciCoverage < 0.95 when n < 6). */
export function spread(xs, d = 3) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  // widest-to-narrowest: the largest j (1-based) such that coverage 1 - 2 * P(X <= j - 1) >= 0.95
  let j = 1;
  while (j < n / 2 && 1 - 2 * binomCdf(j, n) >= 0.95) j++;
  const coverage = 1 - 2 * binomCdf(j - 1, n);
  return {
    n,
    min: round(s[0], d),
    median: round(median(s), d),
    max: round(s[n - 1], d),
    ci95: [round(s[j - 1], d), round(s[n - j], d)],
    ciCoverage: round(coverage, 3),
    relHalfWidthPct: round(((s[n - j] - s[j - 1]) / 2 / median(s)) * 100, 2),
  };
}

/** "15.2 (95% CI 14.9–15.6; min 14.1, max 16.0; n=10)" */
export function formatSpread(sp, unit = "") {
  const cov = sp.ciCoverage >= 0.95 ? "95% CI" : `${Math.round(sp.ciCoverage * 100)}% CI (few runs)`;
  return `${sp.median}${unit} (${cov} ${sp.ci95[0]}–${sp.ci95[1]}; min ${sp.min}, max ${sp.max}; n=${sp.n})`;
}
