import type { TAuditEntryV1, TBenchmarkListV1, TRuntimeMetricsViewV1 } from "@fleet/protocol";
import { formatDateTime } from "../../lib/format/index";

export interface TimelineItem {
  at: string;
  kind: "audit" | "load" | "benchmark";
  text: string;
  ok: boolean;
}

/** What happened to a device, newest first: audited actions on it, model loads, benchmark results. */
export function timelineItems(audit: TAuditEntryV1[], loads: TRuntimeMetricsViewV1["loads"], benchmarks: TBenchmarkListV1["items"], limit = 30): TimelineItem[] {
  const items: TimelineItem[] = [
    ...audit.map((a) => ({ at: a.at, kind: "audit" as const, text: `${a.action} by ${a.actor}`, ok: !/refus|fail|revok|reject/.test(a.action) })),
    ...loads.map((l) => ({ at: l.at, kind: "load" as const, text: `${l.ok ? "loaded" : "failed to load"} ${l.modelId}`, ok: l.ok })),
    ...benchmarks.map((b) => ({ at: b.receivedAt, kind: "benchmark" as const, text: `benchmark ${b.result.ok ? "finished" : "failed"}`, ok: b.result.ok })),
  ];
  return items.sort((x, y) => y.at.localeCompare(x.at)).slice(0, limit);
}

export function EventTimeline({ items }: { items: TimelineItem[] }) {
  if (items.length === 0) return <p className="muted">Nothing recorded for this device yet.</p>;
  return (
    <ol className="timeline" aria-label="Device events">
      {items.map((i, n) => (
        <li key={`${i.at}-${n}`} className={i.ok ? "" : "timeline-bad"}>
          <span className="mono muted">{formatDateTime(i.at)}</span> <span className="badge badge-role">{i.kind}</span> {i.text}
        </li>
      ))}
    </ol>
  );
}
