import { describe, expect, it } from "vitest";
import { natsConnectionOptions, redactNatsUrl } from "./natsUrl.js";

describe("natsConnectionOptions", () => {
  it.each([
    ["nats://127.0.0.1:4222", { servers: ["nats://127.0.0.1:4222"] }],
    ["nats://agent-7:s%40cret@fleet:4222", { servers: ["nats://fleet:4222"], user: "agent-7", pass: "s@cret" }],
    ["tls://tok123@fleet:4222", { servers: ["tls://fleet:4222"], token: "tok123" }],
    ["nats://u:p@a:1, nats://u:p@b:2", { servers: ["nats://a:1", "nats://b:2"], user: "u", pass: "p" }],
  ])("%s", (url, expected) => {
    expect(natsConnectionOptions(url)).toEqual(expected);
  });

  it("redacts credentials for logs", () => {
    expect(redactNatsUrl("nats://u:p@a:1,nats://tok@b:2")).toBe("nats://***@a:1,nats://***@b:2");
    expect(redactNatsUrl("nats://a:1")).toBe("nats://a:1");
  });
});
