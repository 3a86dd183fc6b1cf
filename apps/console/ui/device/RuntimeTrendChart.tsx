"use client";

import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { TRuntimeMetricsViewV1 } from "@fleet/protocol";

export interface TrendPoint {
  t: string;
  ttftP50: number | null;
  ttftP95: number | null;
  tpotP50: number | null;
  tps: number | null;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** One point per metrics window (all models of the window merged by request-weighted mean), oldest first. */
export function runtimeTrend(items: TRuntimeMetricsViewV1["items"]): TrendPoint[] {
  const byWindow = new Map<string, TRuntimeMetricsViewV1["items"]>();
  for (const i of items) byWindow.set(i.windowEnd, [...(byWindow.get(i.windowEnd) ?? []), i]);
  const weighted = (rows: TRuntimeMetricsViewV1["items"], pick: (s: TRuntimeMetricsViewV1["items"][number]["stats"]) => number | null | undefined) => {
    let sum = 0;
    let w = 0;
    for (const r of rows) {
      const v = pick(r.stats);
      if (v === null || v === undefined) continue;
      const weight = Math.max(1, r.stats.requests);
      sum += v * weight;
      w += weight;
    }
    return w === 0 ? null : sum / w;
  };
  return [...byWindow.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, rows]) => {
      const ttftP50 = weighted(rows, (s) => s.ttftMs?.p50);
      const ttftP95 = weighted(rows, (s) => s.ttftMs?.p95);
      const tpotP50 = weighted(rows, (s) => s.tpotMs?.p50);
      return {
        t: t.slice(5, 16).replace("T", " "),
        ttftP50: ttftP50 === null ? null : r1(ttftP50),
        ttftP95: ttftP95 === null ? null : r1(ttftP95),
        tpotP50: tpotP50 === null ? null : r1(tpotP50),
        tps: tpotP50 && tpotP50 > 0 ? r1(1000 / tpotP50) : null,
      };
    });
}

/** TTFT / TPOT (ms, left axis) and generation tokens per second (right axis) over time. Fixed size: renders on the server too. */
export function RuntimeTrendChart({ items }: { items: TRuntimeMetricsViewV1["items"] }) {
  const data = runtimeTrend(items);
  if (data.length < 2) return <p className="muted">Not enough runtime metrics windows yet for a trend (the agent reports one per window with requests).</p>;
  return (
    <figure aria-label="Runtime metrics over time" style={{ margin: 0 }}>
      <LineChart width={760} height={260} data={data} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" />
        <YAxis yAxisId="ms" unit=" ms" />
        <YAxis yAxisId="tps" orientation="right" unit=" t/s" />
        <Tooltip />
        <Legend />
        <Line yAxisId="ms" dataKey="ttftP50" name="TTFT p50" stroke="#1f5fbf" dot={false} isAnimationActive={false} connectNulls />
        <Line yAxisId="ms" dataKey="ttftP95" name="TTFT p95" stroke="#8fb0e3" strokeDasharray="4 4" dot={false} isAnimationActive={false} connectNulls />
        <Line yAxisId="ms" dataKey="tpotP50" name="TPOT p50" stroke="#c98a00" dot={false} isAnimationActive={false} connectNulls />
        <Line yAxisId="tps" dataKey="tps" name="tokens/s" stroke="#1f9d4c" dot={false} isAnimationActive={false} connectNulls />
      </LineChart>
    </figure>
  );
}
