import type { TGateResultV1 } from "@fleet/protocol";

/** One gate as "value vs threshold" for the rollout page; a gate with no value yet reads "waiting". */
export function gateLine(g: TGateResultV1): string {
  const value = g.value === null ? "no data yet" : String(round(g.value));
  const threshold = g.threshold === null ? "—" : String(round(g.threshold));
  return `${value} (threshold ${threshold})`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
