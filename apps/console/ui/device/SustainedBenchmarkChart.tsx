"use client";

import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from "recharts";
import type { TBenchmarkListV1 } from "@fleet/protocol";

type Item = TBenchmarkListV1["items"][number];

const round = (x: number) => (x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);

/**
 * Tokens/s over time of the device's latest sustained benchmark, with the first-window median and the throttling
 * threshold drawn in, the verdict, and what the sensors and power could (not) tell. Fixed size: renders on the
 * server too.
 */
export function SustainedBenchmarkChart({ items }: { items: Item[] }) {
  const latest = items.find((i) => i.result.ok && i.result.sustained);
  if (!latest?.result.sustained) return <p className="muted">No sustained benchmark yet (run one with mode “sustained”).</p>;
  const s = latest.result.sustained;
  const t = s.throttling;
  const data = s.samples.map((x) => ({ t: x.tSec, tps: round(x.tokensPerSecond), mhz: x.cpuFreqMhz, temp: x.cpuTempC }));
  const limit = t.baselineTokensPerSecond !== null ? t.baselineTokensPerSecond * (1 - t.thresholdPct / 100) : null;
  const sensor = (name: string, v: { available: boolean; reason: string | null }) => (v.available ? `${name}: measured` : `${name}: ${v.reason ?? "sensors unavailable"}`);
  const power = s.powerAtStart.source ?? "unknown";
  return (
    <figure aria-label="Sustained benchmark" style={{ margin: 0 }}>
      <figcaption>
        <strong>{t.detected ? "Throttling detected" : "No throttling"}</strong> · {t.summary} ·{" "}
        <span className="muted">
          {latest.result.model.id}, {latest.result.settings.threads} threads, {s.durationSec} s, power {power}
          {s.powerAtStart.profile ? ` (${s.powerAtStart.profile})` : ""}
          {s.powerAtEnd.source !== s.powerAtStart.source ? ` → ${s.powerAtEnd.source ?? "unknown"}` : ""}
        </span>
      </figcaption>
      <LineChart width={640} height={240} data={data} margin={{ top: 10, right: 20, bottom: 20, left: 10 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" type="number" domain={[0, "dataMax"]} unit=" s" label={{ value: "time", position: "insideBottom", offset: -10 }} />
        <YAxis dataKey="tps" label={{ value: "tokens/s", angle: -90, position: "insideLeft" }} />
        <Tooltip />
        {t.baselineTokensPerSecond !== null ? <ReferenceLine y={t.baselineTokensPerSecond} stroke="#888" label="first window median" /> : null}
        {limit !== null ? <ReferenceLine y={limit} stroke="#c33" strokeDasharray="4 4" label={`-${t.thresholdPct}%`} /> : null}
        <Line type="monotone" dataKey="tps" name="tokens/s" stroke="#2563eb" dot={false} isAnimationActive={false} />
      </LineChart>
      <p className="muted">
        {sensor("CPU frequency", s.sensors.cpuFrequency)} · {sensor("CPU temperature", s.sensors.cpuTemperature)}
      </p>
    </figure>
  );
}
