import { describe, expect, it } from "vitest";
import { ZRuntimeMetricsV1 } from "@fleet/protocol";
import { MetricsRecorder } from "./MetricsRecorder.js";
import { percentile } from "./percentile.js";

describe("percentile", () => {
  it.each([
    [[], 50, null],
    [[5], 95, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 95, 10],
    [[3, 1, 2], 50, 2],
  ])("%j p%i = %s", (xs, p, want) => {
    expect(percentile(xs, p)).toBe(want);
  });
});

describe("MetricsRecorder", () => {
  it("aggregates a window per model and starts a new one", () => {
    const m = new MetricsRecorder();
    expect(m.take()).toBeNull();
    for (let i = 1; i <= 20; i++) {
      m.recordRequest({ modelId: "a.gguf", sha256: null, ttftMs: i, tpotMs: i / 10, promptTokens: 3, outputTokens: 7, error: false });
    }
    m.recordRequest({ modelId: "a.gguf", sha256: null, ttftMs: null, tpotMs: null, promptTokens: 0, outputTokens: 0, error: true });
    const w = m.take();
    expect(ZRuntimeMetricsV1.safeParse(w).success).toBe(true);
    expect(w!.models).toEqual([
      { modelId: "a.gguf", sha256: null, requests: 21, errors: 1, promptTokens: 60, outputTokens: 140, ttftMs: { p50: 10, p95: 19 }, tpotMs: { p50: 1, p95: 1.9 } },
    ]);
    expect(m.take()).toBeNull();
  });
});
