import { describe, expect, it } from "vitest";
import { quantizationFacts, UnknownQuantizationError } from "./quantizationFacts.js";

describe("quantizationFacts", () => {
  it.each([
    [15, { type: "Q4_K_M", bits: 4, groupSize: 256 }],
    ["Q4_K_M", { type: "Q4_K_M", bits: 4, groupSize: 256 }],
    ["MOSTLY_Q4_K_M", { type: "Q4_K_M", bits: 4, groupSize: 256 }],
    [7, { type: "Q8_0", bits: 8, groupSize: 32 }],
    ["q8_0", { type: "Q8_0", bits: 8, groupSize: 32 }],
    [1, { type: "F16", bits: 16, groupSize: null }],
    ["ALL_F32", { type: "F32", bits: 32, groupSize: null }],
    [32, { type: "BF16", bits: 16, groupSize: null }],
    [2, { type: "Q4_0", bits: 4, groupSize: 32 }],
    [17, { type: "Q5_K_M", bits: 5, groupSize: 256 }],
    [18, { type: "Q6_K", bits: 6, groupSize: 256 }],
    [25, { type: "IQ4_NL", bits: 4, groupSize: 32 }],
    [30, { type: "IQ4_XS", bits: 4, groupSize: 256 }],
  ] as const)("%s -> %o", (input, want) => {
    expect(quantizationFacts(input)).toEqual(want);
  });

  it.each([4, 99, "Q9_Z", ""])("refuses %j", (input) => {
    expect(() => quantizationFacts(input)).toThrow(UnknownQuantizationError);
  });
});
