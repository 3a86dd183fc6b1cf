"use client";

import { Bar, BarChart, CartesianGrid, Cell, Pie, PieChart, Tooltip, XAxis, YAxis } from "recharts";

const STATUS_COLORS: Record<string, string> = { Online: "#1f9d4c", Offline: "#9aa1ad", "Never seen": "#c98a00", Revoked: "#c33" };

/** Online/offline/never seen/revoked as a donut (fixed size: renders on the server too). */
export function StatusDonut({ counts }: { counts: Array<{ name: string; value: number }> }) {
  const data = counts.filter((c) => c.value > 0);
  if (data.length === 0) return <p className="muted">No devices yet.</p>;
  return (
    <PieChart width={260} height={200} aria-label="Devices by status">
      <Pie data={data} dataKey="value" nameKey="name" innerRadius={50} outerRadius={80} isAnimationActive={false}>
        {data.map((d) => (
          <Cell key={d.name} fill={STATUS_COLORS[d.name] ?? "#1f5fbf"} />
        ))}
      </Pie>
      <Tooltip />
    </PieChart>
  );
}

/** Devices per class as horizontal bars. */
export function ClassBars({ data, label }: { data: Array<{ name: string; devices: number }>; label: string }) {
  if (data.length === 0) return <p className="muted">No inventory reported yet.</p>;
  return (
    <BarChart width={340} height={Math.max(120, 34 * data.length + 40)} data={data} layout="vertical" margin={{ left: 20, right: 20 }} aria-label={label}>
      <CartesianGrid strokeDasharray="3 3" horizontal={false} />
      <XAxis type="number" allowDecimals={false} />
      <YAxis type="category" dataKey="name" width={130} />
      <Tooltip />
      <Bar dataKey="devices" name="devices" fill="#1f5fbf" isAnimationActive={false} />
    </BarChart>
  );
}
