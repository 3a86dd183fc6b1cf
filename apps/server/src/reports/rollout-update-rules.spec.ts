import { describe, expect, it } from "vitest";
import type { ReportBody } from "@fleet/protocol";
import { movesRolloutDevice } from "./report-writers.js";

const update = (state: string, assignmentVersion = 3): ReportBody<"update"> =>
  ({ rolloutId: "r1", assignmentVersion, state, at: new Date().toISOString(), bytesDone: null, bytesTotal: null, code: null, reason: null }) as unknown as ReportBody<"update">;

/** [row state, row's assignment version, reported state, reported version, moves the row] */
const RULES: [string, string | null, string, number, boolean][] = [
  // forwards through the install states, repeated downloading as progress
  ["pending", "3", "downloading", 3, true],
  ["downloading", "3", "downloading", 3, true],
  ["downloading", "3", "testing", 3, true],
  ["testing", "3", "active", 3, true],
  // late or repeated reports of an earlier state
  ["testing", "3", "downloading", 3, false],
  ["verifying", "3", "verifying", 3, false],
  // fails from any state that is not final; rolls back only from active or failed
  ["pending", "3", "failed", 3, true],
  ["testing", "3", "failed", 3, true],
  ["active", "3", "failed", 3, false],
  ["active", "3", "rolled_back", 3, true],
  ["failed", "3", "rolled_back", 3, true],
  ["rolled_back", "3", "rolled_back", 3, false],
  ["rolled_back", "3", "active", 3, false],
  ["failed", "3", "active", 3, false],
  // only for the assignment version the row holds
  ["pending", "2", "downloading", 3, false],
  ["pending", null, "downloading", 3, false],
];

describe("which update reports move a device's rollout row", () => {
  it.each(RULES)("%s (assignment %s) + %s (assignment %s) -> %s", (state, assignmentVersion, reported, version, moves) => {
    expect(movesRolloutDevice({ state, assignmentVersion }, update(reported, version))).toBe(moves);
  });
});
