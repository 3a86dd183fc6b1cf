import { describe, expect, it } from "vitest";
import { ConsoleConfigError, parseConsoleEnv } from "./parseConsoleEnv";

describe("parseConsoleEnv", () => {
  it("defaults the server URL and trims trailing slashes", () => {
    expect(parseConsoleEnv({ FLEET_ADMIN_TOKEN: "t" })).toEqual({ FLEET_SERVER_URL: "http://127.0.0.1:4100", FLEET_ADMIN_TOKEN: "t", FLEET_EVENTS_HEARTBEAT_MS: 15_000 });
    expect(parseConsoleEnv({ FLEET_ADMIN_TOKEN: "t", FLEET_EVENTS_HEARTBEAT_MS: "1000" }).FLEET_EVENTS_HEARTBEAT_MS).toBe(1000);
    expect(parseConsoleEnv({ FLEET_ADMIN_TOKEN: "t", FLEET_SERVER_URL: "https://fleet.example.com/" }).FLEET_SERVER_URL).toBe("https://fleet.example.com");
    expect(parseConsoleEnv({ FLEET_ADMIN_TOKEN: "t", FLEET_SERVER_URL: "" }).FLEET_SERVER_URL).toBe("http://127.0.0.1:4100");
  });

  it.each([
    [{}, ["FLEET_ADMIN_TOKEN: missing"]],
    [{ FLEET_ADMIN_TOKEN: "" }, ["FLEET_ADMIN_TOKEN: missing"]],
    [{ FLEET_ADMIN_TOKEN: "t", FLEET_SERVER_URL: "nats://x:4222" }, ["FLEET_SERVER_URL: must be an http(s) URL"]],
    [{ FLEET_ADMIN_TOKEN: "t", FLEET_EVENTS_HEARTBEAT_MS: "soon" }, ["FLEET_EVENTS_HEARTBEAT_MS: must be a number"]],
    [{ FLEET_ADMIN_TOKEN: "t", FLEET_EVENTS_HEARTBEAT_MS: "5" }, ["FLEET_EVENTS_HEARTBEAT_MS: must be at least 100 ms"]],
    [{ FLEET_SERVER_URL: "not a url" }, ["FLEET_SERVER_URL: must be an http(s) URL", "FLEET_ADMIN_TOKEN: missing"]],
  ])("%j is refused, naming every bad key", (env, reasons) => {
    let err: unknown;
    try {
      parseConsoleEnv(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConsoleConfigError);
    for (const r of reasons) expect((err as Error).message).toContain(r);
  });
});
