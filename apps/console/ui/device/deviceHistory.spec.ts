import { describe, expect, it } from "vitest";
import type { TRuntimeMetricsViewV1 } from "@fleet/protocol";
import { runtimeTrend } from "./RuntimeTrendChart";
import { timelineItems } from "./EventTimeline";

type Item = TRuntimeMetricsViewV1["items"][number];
const item = (windowEnd: string, requests: number, ttft: number | null, tpot: number | null): Item => ({
  windowStart: windowEnd,
  windowEnd,
  receivedAt: windowEnd,
  stats: {
    modelId: `m${requests}`,
    sha256: null,
    requests,
    errors: 0,
    promptTokens: 0,
    outputTokens: 0,
    ttftMs: ttft === null ? null : { p50: ttft, p95: ttft * 2 },
    tpotMs: tpot === null ? null : { p50: tpot, p95: tpot },
  },
});

describe("runtimeTrend", () => {
  it("merges the models of one window by requests, orders windows oldest first, derives tokens/s from TPOT", () => {
    const points = runtimeTrend([
      item("2026-11-28T10:05:00.000Z", 1, 100, 20),
      item("2026-11-28T10:00:00.000Z", 3, 40, 10),
      item("2026-11-28T10:00:00.000Z", 1, 80, 30),
    ]);
    expect(points).toEqual([
      { t: "11-28 10:00", ttftP50: 50, ttftP95: 100, tpotP50: 15, tps: 66.7 },
      { t: "11-28 10:05", ttftP50: 100, ttftP95: 200, tpotP50: 20, tps: 50 },
    ]);
  });

  it("leaves gaps where a window has no latency", () => {
    expect(runtimeTrend([item("2026-11-28T10:00:00.000Z", 0, null, null)])).toEqual([{ t: "11-28 10:00", ttftP50: null, ttftP95: null, tpotP50: null, tps: null }]);
  });
});

describe("timelineItems", () => {
  it("merges audited actions, model loads and benchmarks newest first, marking failures", () => {
    const items = timelineItems(
      [{ id: "a", at: "2026-11-28T10:00:00.000Z", actor: "user:ana@x", action: "device.enrolled", targetType: "device", targetId: "d", details: null }],
      [{ at: "2026-11-28T11:00:00.000Z", modelId: "tiny", sha256: null, ok: false } as TRuntimeMetricsViewV1["loads"][number]],
      [],
    );
    expect(items.map((i) => [i.kind, i.text, i.ok])).toEqual([
      ["load", "failed to load tiny", false],
      ["audit", "device.enrolled by user:ana@x", true],
    ]);
  });
});
