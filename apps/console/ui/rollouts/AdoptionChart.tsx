"use client";

import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { TRolloutDeviceState } from "@fleet/protocol";

export interface AdoptionBucket {
  at: string;
  counts: Partial<Record<TRolloutDeviceState, number>>;
}

// In-flight states are summed so the chart stays readable: adoption is active vs. on its way vs. failed/rolled back.
const IN_FLIGHT: TRolloutDeviceState[] = ["pending", "downloading", "verifying", "testing"];

export function adoptionSeries(buckets: AdoptionBucket[]) {
  return buckets.map((b) => ({
    t: b.at.slice(5, 19).replace("T", " "),
    active: b.counts.active ?? 0,
    inFlight: IN_FLIGHT.reduce((n, s) => n + (b.counts[s] ?? 0), 0),
    failed: b.counts.failed ?? 0,
    rolledBack: b.counts.rolled_back ?? 0,
  }));
}

/** Devices per state over time from the rollout's adoption series. Fixed size: renders on the server too. */
export function AdoptionChart({ buckets }: { buckets: AdoptionBucket[] }) {
  const data = adoptionSeries(buckets);
  if (data.length === 0) return <p className="muted">No adoption data yet: devices appear here once they are sent the model.</p>;
  return (
    <figure aria-label="Adoption over time" style={{ margin: 0 }}>
      <LineChart width={760} height={260} data={data} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Line dataKey="active" name="active" stroke="#1f9d4c" dot={false} isAnimationActive={false} />
        <Line dataKey="inFlight" name="pending → testing" stroke="#1f5fbf" dot={false} isAnimationActive={false} />
        <Line dataKey="failed" name="failed" stroke="#c0392b" dot={false} isAnimationActive={false} />
        <Line dataKey="rolledBack" name="rolled back" stroke="#7f8c8d" strokeDasharray="4 4" dot={false} isAnimationActive={false} />
      </LineChart>
    </figure>
  );
}
