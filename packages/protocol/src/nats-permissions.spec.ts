import { describe, expect, it } from "vitest";
import { deviceCommandConsumer, deviceInboxPrefix, devicePermissions } from "./nats-permissions.js";

describe("devicePermissions", () => {
  const opts = { commandStream: "FLEET_COMMANDS", assignmentBucket: "FLEET_ASSIGNMENTS", policyBucket: "FLEET_DEVICE_POLICIES" };

  it("allows exactly the device's own reports, command consumer, assignment key, policy key and inbox", () => {
    expect(devicePermissions("t1.fleet.v1", "dev-A", opts)).toEqual({
      pub: {
        allow: [
          "t1.fleet.v1.device.dev-A.>",
          "$JS.API.CONSUMER.INFO.FLEET_COMMANDS.agent-dev-A",
          "$JS.API.CONSUMER.MSG.NEXT.FLEET_COMMANDS.agent-dev-A",
          "$JS.ACK.FLEET_COMMANDS.agent-dev-A.>",
          "$JS.API.DIRECT.GET.KV_FLEET_ASSIGNMENTS.$KV.FLEET_ASSIGNMENTS.dev-A",
          "$JS.API.DIRECT.GET.KV_FLEET_DEVICE_POLICIES.$KV.FLEET_DEVICE_POLICIES.dev-A",
        ],
      },
      sub: { allow: ["_INBOX_dev-A.>", "$KV.FLEET_ASSIGNMENTS.dev-A", "$KV.FLEET_DEVICE_POLICIES.dev-A"] },
    });
    expect(deviceInboxPrefix("dev-A")).toBe("_INBOX_dev-A");
    expect(deviceCommandConsumer("dev-A")).toBe("agent-dev-A");
  });

  it.each([
    ["a device id with wildcards", "t1.fleet.v1", "dev.*", opts],
    ["a device id with >", "t1.fleet.v1", ">", opts],
    ["a bad prefix", "t1.>", "dev-A", opts],
    ["a stream name with dots", "t1.fleet.v1", "dev-A", { ...opts, commandStream: "A.B" }],
    ["a bucket name with a wildcard", "t1.fleet.v1", "dev-A", { ...opts, assignmentBucket: "*" }],
    ["a policy bucket with a wildcard", "t1.fleet.v1", "dev-A", { ...opts, policyBucket: ">" }],
  ])("refuses %s (a permission must never widen)", (_what, prefix, id, o) => {
    expect(() => devicePermissions(prefix, id, o)).toThrow(/invalid/);
  });
});
