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
 * What the scheduler does with a ring now: "fail" as soon as the install failure budget is exceeded or the
 * success minimum can no longer be reached (no need to wait out the soak); "promote" at once for an empty
 * ring (a small fleet can leave a middle ring without devices), otherwise only when every device is terminal (active, failed or rolled back),
 * the soak has ended and every gate passes; "fail" when the soak has ended and a gate fails; else "wait".
 * evaluateGates gives the reasons to show.
 */
export function ringDecision({ stats, gates, soakEndsAt, now }: RingDecisionInput): RingDecision {
  if (ringFailureRate(stats) > gates.maxFailureRate) return "fail";
  // Too many failures to still reach the success minimum: waiting cannot change the outcome.
  if (stats.devices - stats.failed - stats.rolledBack < Math.min(gates.minSuccesses, stats.devices)) return "fail";
  // Nothing was installed, so there is nothing to soak.
  if (stats.devices === 0) return "promote";
  if (stats.inProgress > 0 || stats.active + stats.failed + stats.rolledBack < stats.devices) return "wait";
  if (soakEndsAt === null || now.getTime() < soakEndsAt.getTime()) return "wait";
  return evaluateGates(stats, gates).pass ? "promote" : "fail";
}
