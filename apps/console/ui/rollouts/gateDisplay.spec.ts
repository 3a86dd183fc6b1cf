import { describe, expect, it } from "vitest";
import { gateLine } from "./gateDisplay";

describe("gateLine", () => {
  it("shows the value against its threshold, rounded", () => {
    expect(gateLine({ gate: "failureRate", value: 0.123456, threshold: 0.05, pass: false, detail: "" })).toBe("0.123 (threshold 0.05)");
  });
  it("says when a gate has no value yet", () => {
    expect(gateLine({ gate: "failureRate", value: null, threshold: 0.05, pass: true, detail: "" })).toBe("no data yet (threshold 0.05)");
  });
});
