import { describe, expect, it } from "vitest";
import { deviceCommandConsumer, deviceInboxPrefix, devicePermissions } from "./nats-permissions.js";

describe("devicePermissions", () => {
  const opts = { commandStream: "FLEET_COMMANDS", assignmentBucket: "FLEET_ASSIGNMENTS" };

  it("allows exactly the device's own reports, command consumer, assignment key and inbox", () => {
    expect(devicePermissions("t1.fleet.v1", "dev-A", opts)).toEqual({
      pub: {
        allow: [
          "t1.fleet.v1.device.dev-A.>",
          "$JS.API.CONSUMER.INFO.FLEET_COMMANDS.agent-dev-A",
          "$JS.API.CONSUMER.MSG.NEXT.FLEET_COMMANDS.agent-dev-A",
          "$JS.ACK.FLEET_COMMANDS.agent-dev-A.>",
          "$JS.API.DIRECT.GET.KV_FLEET_ASSIGNMENTS.$KV.FLEET_ASSIGNMENTS.dev-A",
        ],
      },
      sub: { allow: ["_INBOX_dev-A.>", "$KV.FLEET_ASSIGNMENTS.dev-A"] },
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
  ])("refuses %s (a permission must never widen)", (_what, prefix, id, o) => {
    expect(() => devicePermissions(prefix, id, o)).toThrow(/invalid/);
  });
});
