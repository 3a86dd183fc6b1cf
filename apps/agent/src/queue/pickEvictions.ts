import type { ReportKind } from "@fleet/protocol";

export interface QueueIndexEntry {
  seq: number;
  kind: ReportKind;
  file: string;
  size: number;
}

/** Liveness and samples: losing old ones during a long outage costs nothing the next one will not say. */
const EXPENDABLE_ORDER: ReportKind[] = ["heartbeat", "metrics", "events", "benchmark"];
/** Snapshots: only the newest of each kind matters, so an older one is superseded by a newer one. */
// egress: the outbound ledger is cumulative, so the newest one says everything the older ones did
const SNAPSHOT_KINDS: ReportKind[] = ["inventory", "models", "posture", "egress"];

/**
 * Which entries to drop so the queue fits its limits: oldest heartbeats first, then oldest metrics, events,
 * benchmarks, then snapshots that a newer one of the same kind supersedes. The newest inventory, models,
 * posture and egress ledger are never dropped, so the queue may stay above its cap by at most those four.
 */
export function pickEvictions(index: readonly QueueIndexEntry[], limits: { maxMessages: number; maxBytes: number }): QueueIndexEntry[] {
  let count = index.length;
  let bytes = index.reduce((s, e) => s + e.size, 0);
  const over = () => count > limits.maxMessages || bytes > limits.maxBytes;
  if (!over()) return [];
  const victims: QueueIndexEntry[] = [];
  const take = (e: QueueIndexEntry) => {
    victims.push(e);
    count--;
    bytes -= e.size;
  };
  for (const kind of EXPENDABLE_ORDER) {
    for (const e of index) {
      if (!over()) return victims;
      if (e.kind === kind) take(e);
    }
  }
  const newest = new Map<ReportKind, number>();
  for (const e of index) if (SNAPSHOT_KINDS.includes(e.kind)) newest.set(e.kind, e.seq);
  for (const e of index) {
    if (!over()) return victims;
    if (SNAPSHOT_KINDS.includes(e.kind) && newest.get(e.kind) !== e.seq) take(e);
  }
  return victims;
}
