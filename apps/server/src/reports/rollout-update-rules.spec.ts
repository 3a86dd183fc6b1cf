import { describe, expect, it } from "vitest";
import type { ReportBody } from "@fleet/protocol";
import { movesRolloutDevice } from "./report-writers.js";

const update = (state: string, assignmentVersion = 3): ReportBody<"update"> =>
  ({ rolloutId: "r1", assignmentVersion, state, at: new Date().toISOString(), bytesDone: null, bytesTotal: null, code: null, reason: null }) as unknown as ReportBody<"update">;
const row = (state: string, assignmentVersion: string | null = "3") => ({ state, assignmentVersion });

describe("which update reports move a device's rollout row", () => {
  it("forwards through the install states, repeated downloading as progress", () => {
    expect(movesRolloutDevice(row("pending"), update("downloading"))).toBe(true);
    expect(movesRolloutDevice(row("downloading"), update("downloading"))).toBe(true);
    expect(movesRolloutDevice(row("downloading"), update("testing"))).toBe(true);
    expect(movesRolloutDevice(row("testing"), update("active"))).toBe(true);
    // late or repeated reports of an earlier state
    expect(movesRolloutDevice(row("testing"), update("downloading"))).toBe(false);
    expect(movesRolloutDevice(row("verifying"), update("verifying"))).toBe(false);
  });

  it("fails from any state that is not final; rolls back only from active or failed", () => {
    expect(movesRolloutDevice(row("pending"), update("failed"))).toBe(true);
    expect(movesRolloutDevice(row("testing"), update("failed"))).toBe(true);
    expect(movesRolloutDevice(row("active"), update("failed"))).toBe(false);
    expect(movesRolloutDevice(row("active"), update("rolled_back"))).toBe(true);
    expect(movesRolloutDevice(row("failed"), update("rolled_back"))).toBe(true);
    expect(movesRolloutDevice(row("rolled_back"), update("rolled_back"))).toBe(false);
    expect(movesRolloutDevice(row("rolled_back"), update("active"))).toBe(false);
    expect(movesRolloutDevice(row("failed"), update("active"))).toBe(false);
  });

  it("only for the assignment version the row holds", () => {
    expect(movesRolloutDevice(row("pending", "2"), update("downloading", 3))).toBe(false);
    expect(movesRolloutDevice(row("pending", null), update("downloading", 3))).toBe(false);
  });
});
