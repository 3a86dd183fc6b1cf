import type { TGatesV1 } from "@fleet/protocol";
import { evaluateGates, ringFailureRate, type RingStats } from "./evaluateGates.js";

export type RingDecision = "wait" | "promote" | "fail";

export interface RingDecisionInput {
  ringIndex: number;
  stats: RingStats;
  gates: TGatesV1;
  /** null while the soak has not started (the scheduler starts it when the ring's devices are terminal) */
  soakEndsAt: Date | null;
  now: Date;
}

/**
 * What the scheduler does with a ring now: "fail" as soon as the install failure budget is exceeded (no
 * need to wait out the soak); "promote" only when every device is terminal (active, failed or rolled back),
 * the soak has ended and every gate passes; "fail" when the soak has ended and a gate fails; else "wait".
 * evaluateGates gives the reasons to show.
 */
export function ringDecision({ stats, gates, soakEndsAt, now }: RingDecisionInput): RingDecision {
  if (ringFailureRate(stats) > gates.maxFailureRate) return "fail";
  if (stats.inProgress > 0 || stats.active + stats.failed + stats.rolledBack < stats.devices) return "wait";
  if (soakEndsAt === null || now.getTime() < soakEndsAt.getTime()) return "wait";
  return evaluateGates(stats, gates).pass ? "promote" : "fail";
}
