import { describe, expect, it } from "vitest";
import type { ReportKind } from "@fleet/protocol";
import { pickEvictions } from "./pickEvictions.js";

const idx = (kinds: ReportKind[], size = 10) => kinds.map((kind, seq) => ({ seq, kind, file: `${seq}`, size }));

describe("pickEvictions", () => {
  it.each<[string, ReportKind[], { maxMessages: number; maxBytes: number }, number[]]>([
    ["under the cap: nothing", ["inventory", "heartbeat"], { maxMessages: 5, maxBytes: 1000 }, []],
    ["oldest heartbeat first", ["heartbeat", "inventory", "heartbeat"], { maxMessages: 2, maxBytes: 1000 }, [0]],
    ["heartbeats before metrics", ["metrics", "heartbeat", "heartbeat", "models"], { maxMessages: 2, maxBytes: 1000 }, [1, 2]],
    ["then events and benchmarks", ["events", "benchmark", "models"], { maxMessages: 1, maxBytes: 1000 }, [0, 1]],
    ["superseded snapshots last", ["inventory", "models", "inventory"], { maxMessages: 2, maxBytes: 1000 }, [0]],
    ["never the newest snapshots", ["inventory", "models", "posture"], { maxMessages: 1, maxBytes: 1000 }, []],
    ["bytes cap counts too", ["heartbeat", "heartbeat", "inventory"], { maxMessages: 10, maxBytes: 15 }, [0, 1]],
  ])("%s", (_name, kinds, limits, expected) => {
    expect(pickEvictions(idx(kinds), limits).map((e) => e.seq)).toEqual(expected);
  });
});
