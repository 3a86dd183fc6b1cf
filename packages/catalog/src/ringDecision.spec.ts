import { describe, expect, it } from "vitest";
import { ZGateResultV1, ZGatesV1, type TGatesV1 } from "@fleet/protocol";
import { evaluateGates, type RingStats } from "./evaluateGates.js";
import { ringDecision } from "./ringDecision.js";

const gates: TGatesV1 = ZGatesV1.parse({ maxFailureRate: 0.1, minSuccesses: 3, minLoadSuccessRate: 0.95, maxErrorRate: 0.05, minTokensPerSecRatio: 0.8 });
// 10 devices, all active, healthy soak: every gate passes.
const healthy: RingStats = {
  devices: 10, active: 10, failed: 0, rolledBack: 0, inProgress: 0,
  loads: { ok: 40, failed: 0 }, requests: { total: 1000, errors: 10 }, tokensPerSecRatios: [0.95, 1.0, 1.02, 0.9, 1.1],
};

describe("evaluateGates", () => {
  it("a healthy ring passes every gate", () => {
    const r = evaluateGates(healthy, gates);
    expect(r.pass).toBe(true);
    expect(r.results.map((g) => g.gate)).toEqual(["maxFailureRate", "minSuccesses", "minLoadSuccessRate", "maxErrorRate", "minTokensPerSecRatio"]);
    for (const g of r.results) expect(ZGateResultV1.safeParse(g).success).toBe(true);
  });

  it.each([
    ["maxFailureRate", { active: 8, failed: 1, rolledBack: 1 }, 0.2, 0.1, /install failure rate 0\.200 \(2 of 10 devices failed or rolled back\) exceeds the maximum 0\.100/],
    ["minSuccesses", { devices: 10, active: 2, failed: 0, inProgress: 0 }, 2, 3, /2 devices active, fewer than the minimum 3/],
    ["minLoadSuccessRate", { loads: { ok: 18, failed: 2 } }, 0.9, 0.95, /load success rate 0\.900 \(18 of 20 loads\) is below the minimum 0\.950/],
    ["maxErrorRate", { requests: { total: 100, errors: 6 } }, 0.06, 0.05, /request error rate 0\.060 \(6 of 100 requests\) exceeds the maximum 0\.050/],
    ["minTokensPerSecRatio", { tokensPerSecRatios: [0.5, 0.7, 0.75, 1.0] }, 0.725, 0.8, /median tokens\/s ratio to the previous model 0\.725 over 4 devices is below the minimum 0\.800/],
  ] as const)("%s failing alone fails the ring and names value and threshold", (gate, over, value, threshold, detail) => {
    const r = evaluateGates({ ...healthy, ...over } as RingStats, gates);
    expect(r.pass).toBe(false);
    const failing = r.results.filter((g) => !g.pass);
    expect(failing.map((g) => g.gate)).toEqual([gate]);
    expect(failing[0]!.value).toBeCloseTo(value, 10);
    expect(failing[0]!.threshold).toBe(threshold);
    expect(failing[0]!.detail).toMatch(detail);
  });

  it.each([
    ["no loads, no requests, no speed comparison: nothing to judge", { loads: { ok: 0, failed: 0 }, requests: { total: 0, errors: 0 }, tokensPerSecRatios: [] }, true],
    ["a one-device canary meets a minimum of 3 successes (capped at the ring size)", { devices: 1, active: 1 }, true],
    ["an empty ring passes", { devices: 0, active: 0 }, true],
    ["tokens/s ratio not gated", { tokensPerSecRatios: [0.1] }, "ungated"],
  ] as const)("%s", (_name, over, want) => {
    const g = want === "ungated" ? { ...gates, minTokensPerSecRatio: null } : gates;
    const r = evaluateGates({ ...healthy, ...over } as RingStats, g);
    expect(r.pass).toBe(true);
    if (want === "ungated") expect(r.results.find((x) => x.gate === "minTokensPerSecRatio")?.detail).toBe("tokens/s ratio not gated");
  });

  it("the failure rate at exactly the maximum passes", () => {
    expect(evaluateGates({ ...healthy, active: 9, failed: 1 }, gates).pass).toBe(true);
  });
});

describe("ringDecision", () => {
  const soakEndsAt = new Date("2026-11-28T12:10:00Z");
  const during = new Date("2026-11-28T12:05:00Z");
  const after = new Date("2026-11-28T12:10:00Z");
  const installing: RingStats = { ...healthy, active: 5, inProgress: 5 };
  it.each([
    ["installs still running", installing, null, during, "wait"],
    ["failure budget exceeded mid-install: fail at once", { ...installing, active: 3, failed: 2 }, null, during, "fail"],
    ["failure budget exceeded during the soak: fail before it ends", { ...healthy, active: 8, rolledBack: 2 }, soakEndsAt, during, "fail"],
    ["all terminal, soak not started", healthy, null, after, "wait"],
    ["all terminal, soaking", healthy, soakEndsAt, during, "wait"],
    ["soak over, gates pass", healthy, soakEndsAt, after, "promote"],
    ["soak over, error rate too high", { ...healthy, requests: { total: 100, errors: 50 } }, soakEndsAt, after, "fail"],
    ["soak over, tokens/s dropped", { ...healthy, tokensPerSecRatios: [0.4, 0.5] }, soakEndsAt, after, "fail"],
    ["health is judged at the end of the soak, not during it", { ...healthy, requests: { total: 100, errors: 50 } }, soakEndsAt, during, "wait"],
    ["one failure within the budget, soak over", { ...healthy, active: 9, failed: 1 }, soakEndsAt, after, "promote"],
    ["devices unaccounted for count as not terminal", { ...healthy, active: 9 }, soakEndsAt, after, "wait"],
    ["an empty ring promotes at once: nothing to soak", { ...healthy, devices: 0, active: 0, loads: { ok: 0, failed: 0 }, requests: { total: 0, errors: 0 }, tokensPerSecRatios: [] }, null, during, "promote"],
  ] as const)("%s -> %s", (_name, stats, soak, now, want) => {
    expect(ringDecision({ ringIndex: 0, stats: stats as RingStats, gates, soakEndsAt: soak, now })).toBe(want);
  });

  const lenient = { ...gates, maxFailureRate: 0.5, minSuccesses: 3 };
  it.each([
    ["the success minimum can no longer be reached: fail without waiting", { devices: 4, active: 1, failed: 2, inProgress: 1 }, "fail"],
    ["within the budget and the minimum still reachable: wait", { devices: 4, active: 1, failed: 1, inProgress: 2 }, "wait"],
  ] as const)("lenient budget (0.5), 3 successes needed: %s", (_name, over, want) => {
    const stats = { ...healthy, rolledBack: 0, ...over };
    expect(ringDecision({ ringIndex: 1, stats, gates: lenient, soakEndsAt: null, now: during })).toBe(want);
  });
});
