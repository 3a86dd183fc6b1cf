import { describe, expect, it } from "vitest";
import type { TFleetEventV1 } from "@fleet/protocol";
import { eventConcerns, type LiveScope } from "./eventConcerns";
import { sseComment, sseData, sseRetry } from "./sse";

const at = "2026-11-25T10:00:00.000Z";
const online = (deviceId: string): TFleetEventV1 => ({ type: "device.online", deviceId, at, data: { lastSeenAt: at } });
const rejectedAnonymous: TFleetEventV1 = { type: "report.rejected", deviceId: null, at, data: { reason: "malformed", detail: "", subject: "s" } };

describe("eventConcerns", () => {
  const fleet: LiveScope = { deviceId: null };
  const dev1: LiveScope = { deviceId: "dev1" };
  it.each<[string, TFleetEventV1, LiveScope, boolean]>([
    ["any device on the fleet page", online("dev2"), fleet, true],
    ["a report with no device on the fleet page (nothing listed changes)", rejectedAnonymous, fleet, false],
    ["a rollout event with no device on the fleet pages (progress, ring)", { type: "rollout.paused", deviceId: null, at, data: {} } as unknown as TFleetEventV1, fleet, true],
    ["this device on its page", online("dev1"), dev1, true],
    ["another device on a device page", online("dev2"), dev1, false],
    ["a report with no device on a device page", rejectedAnonymous, dev1, false],
  ])("%s", (_, event, scope, expected) => expect(eventConcerns(event, scope)).toBe(expected));
});

describe("SSE framing", () => {
  it("frames JSON data, comments and retry as the spec says", () => {
    expect(sseData({ a: "x\ny" })).toBe('data: {"a":"x\\ny"}\n\n');
    expect(sseComment("ping\nnow")).toBe(": ping now\n\n");
    expect(sseRetry(2500.4)).toBe("retry: 2500\n\n");
  });
});
