import { describe, expect, it } from "vitest";
import { chooseThreads, threadCandidates } from "./chooseThreads.js";

describe("threadCandidates", () => {
  it.each([
    [1, [1]],
    [2, [1, 2]],
    [8, [1, 4, 8]],
    [6, [1, 3, 6]],
    [0, [1]],
  ])("%i cores -> %j", (cores, expected) => {
    expect(threadCandidates(cores)).toEqual(expected);
  });
});

describe("chooseThreads", () => {
  it.each([
    ["tiny model: one thread wins", [{ threads: 1, tokensPerSecond: 1500 }, { threads: 2, tokensPerSecond: 900 }], 1],
    ["real compute: all cores win", [{ threads: 1, tokensPerSecond: 9 }, { threads: 2, tokensPerSecond: 17.5 }], 2],
    ["within noise: fewer threads kept", [{ threads: 1, tokensPerSecond: 100 }, { threads: 4, tokensPerSecond: 102 }], 1],
    ["middle wins", [{ threads: 8, tokensPerSecond: 20 }, { threads: 1, tokensPerSecond: 5 }, { threads: 4, tokensPerSecond: 30 }], 4],
    ["failed probes ignored", [{ threads: 2, tokensPerSecond: Number.NaN }, { threads: 1, tokensPerSecond: 3 }], 1],
  ])("%s", (_name, probes, expected) => {
    expect(chooseThreads(probes)).toBe(expected);
  });

  it("refuses an empty probe list", () => {
    expect(() => chooseThreads([])).toThrow(RangeError);
  });
});
