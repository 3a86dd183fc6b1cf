"use client";

import { Bar, CartesianGrid, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from "recharts";
import type { ViolationDay } from "./violationSeries";

/** Violations opened / resolved per day and open at day end. Fixed size: renders on the server too. */
export function ViolationsChart({ data }: { data: ViolationDay[] }) {
  if (data.every((d) => d.opened === 0 && d.resolved === 0 && d.open === 0)) {
    return <p className="muted">No violations in the last {data.length} days.</p>;
  }
  return (
    <figure aria-label="Violations over time" style={{ margin: 0 }}>
      <ComposedChart width={760} height={260} data={data.map((d) => ({ ...d, day: d.day.slice(5) }))} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" fontSize={11} />
        <YAxis allowDecimals={false} fontSize={11} />
        <Tooltip />
        <Legend />
        <Bar dataKey="opened" name="Opened" fill="#d9534f" isAnimationActive={false} />
        <Bar dataKey="resolved" name="Resolved" fill="#5cb85c" isAnimationActive={false} />
        <Line dataKey="open" name="Open at day end" stroke="#f0ad4e" dot={false} isAnimationActive={false} />
      </ComposedChart>
    </figure>
  );
}
