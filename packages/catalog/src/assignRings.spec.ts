import { describe, expect, it } from "vitest";
import { assignRings } from "./assignRings.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `device-${String(i).padStart(5, "0")}`);
const DEFAULT = [{ percent: 5 }, { percent: 25 }, { percent: 100 }];
const ringSizes = (m: Map<string, number>, rings: number) => {
  const sizes = new Array<number>(rings).fill(0);
  for (const r of m.values()) sizes[r]!++;
  return sizes;
};

describe("assignRings", () => {
  it.each([
    // N, rings, expected ring sizes: ring i holds ceil(percent_i% of N) cumulative, the first at least one
    [0, DEFAULT, [0, 0, 0]],
    [1, DEFAULT, [1, 0, 0]],
    [3, DEFAULT, [1, 0, 2]], // ceil(0.15)=1, ceil(0.75)=1, 3
    [4, DEFAULT, [1, 0, 3]],
    [5, DEFAULT, [1, 1, 3]], // ceil(0.25)=1, ceil(1.25)=2
    [20, DEFAULT, [1, 4, 15]],
    [100, DEFAULT, [5, 20, 75]],
    [101, DEFAULT, [6, 20, 75]], // ceil(5.05)=6, ceil(25.25)=26
    [10_000, DEFAULT, [500, 2000, 7500]],
    [7, [{ percent: 0.01 }, { percent: 100 }], [1, 6]], // a tiny canary still gets one device
    [100, [{ percent: 7 }, { percent: 100 }], [7, 93]], // 7% of 100 is 7, not 8 (floating point)
    [10, [{ percent: 50 }, { percent: 50 }, { percent: 100 }], [5, 0, 5]],
    [10, [{ percent: 10 }, { percent: 60 }], [1, 9]], // the last ring reaches every device
    [10, [{ percent: 100 }], [10]],
  ])("%i devices over %j -> %j", (n, rings, want) => {
    const m = assignRings(ids(n), "rollout-1", rings);
    expect(m.size).toBe(n);
    expect([...m.keys()].sort()).toEqual(ids(n));
    expect(ringSizes(m, rings.length)).toEqual(want);
  });

  it("is deterministic and does not depend on the input order", () => {
    const a = assignRings(ids(200), "rollout-1", DEFAULT);
    const b = assignRings([...ids(200)].reverse(), "rollout-1", DEFAULT);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  it("orders by sha256(rolloutId + deviceId): another rollout picks other canaries", () => {
    const canaries = (rollout: string) => [...assignRings(ids(200), rollout, DEFAULT)].filter(([, r]) => r === 0).map(([id]) => id).sort();
    expect(canaries("rollout-1")).toHaveLength(10);
    expect(canaries("rollout-2")).not.toEqual(canaries("rollout-1"));
    // device-00000..: the canary set is not simply the first ids
    expect(canaries("rollout-1")).not.toEqual(ids(10));
  });

  it.each([
    ["no rings", ids(3), []],
    ["decreasing percents", ids(3), [{ percent: 50 }, { percent: 25 }]],
    ["a percent above 100", ids(3), [{ percent: 150 }]],
    ["a duplicate device", ["a", "b", "a"], DEFAULT],
  ])("refuses %s", (_name, devices, rings) => {
    expect(() => assignRings(devices, "r", rings)).toThrow(RangeError);
  });
});
