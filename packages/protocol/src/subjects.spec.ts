import { describe, expect, it } from "vitest";
import { subjects, REPORT_KINDS } from "./subjects.js";

describe("subjects", () => {
  const s = subjects("t42.fleet.v1");

  it("builds per-device report and command subjects", () => {
    expect(s.report("dev-1", "inventory")).toBe("t42.fleet.v1.device.dev-1.inventory");
    expect(s.command("dev-1")).toBe("t42.fleet.v1.command.dev-1");
    expect(s.deviceRevoked()).toBe("t42.fleet.v1.control.device-revoked");
    expect(s.fleetEvents()).toBe("t42.fleet.v1.control.fleet-events");
    expect(s.allReports()).toHaveLength(REPORT_KINDS.length);
    expect(s.allReports()).toContain("t42.fleet.v1.device.*.heartbeat");
  });

  it("parses its own subjects back and refuses others", () => {
    expect(s.parseReport("t42.fleet.v1.device.dev-1.models")).toEqual({ deviceId: "dev-1", kind: "models" });
    expect(s.parseReport("t42.fleet.v1.device.dev-1.gossip")).toBeNull();
    expect(s.parseReport("fleet.v1.device.dev-1.models")).toBeNull();
    expect(s.parseReport("t42.fleet.v1.device.a.b.models")).toBeNull();
  });

  it.each(["", "a.b", "dev*", "dev>", "x".repeat(65), "dev 1"])("refuses device id %j", (id) => {
    expect(() => s.report(id, "heartbeat")).toThrow(/invalid device id/);
  });

  it("refuses a prefix with wildcards", () => {
    expect(() => subjects("fleet.*")).toThrow(/invalid subject prefix/);
  });
});
