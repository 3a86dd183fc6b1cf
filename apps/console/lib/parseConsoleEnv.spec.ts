import { describe, expect, it } from "vitest";
import { parseConsoleEnv } from "./parseConsoleEnv";

describe("parseConsoleEnv", () => {
  it("applies defaults, coerces numbers and trims a trailing slash", () => {
    expect(parseConsoleEnv({})).toEqual({ FLEET_SERVER_URL: "http://127.0.0.1:4100", FLEET_EVENTS_HEARTBEAT_MS: 15_000, FLEET_CONSOLE_MAX_STREAMS: 500 });
    expect(parseConsoleEnv({ FLEET_EVENTS_HEARTBEAT_MS: "1000", FLEET_CONSOLE_MAX_STREAMS: "3" })).toMatchObject({ FLEET_EVENTS_HEARTBEAT_MS: 1000, FLEET_CONSOLE_MAX_STREAMS: 3 });
    expect(parseConsoleEnv({ FLEET_SERVER_URL: "https://fleet.example.com/" }).FLEET_SERVER_URL).toBe("https://fleet.example.com");
    expect(parseConsoleEnv({ FLEET_CONSOLE_URL: "https://console.example.com/" }).FLEET_CONSOLE_URL).toBe("https://console.example.com");
    expect(parseConsoleEnv({ FLEET_SERVER_URL: "", FLEET_EVENTS_TOKEN: "" })).toEqual(parseConsoleEnv({}));
    expect(parseConsoleEnv({ FLEET_EVENTS_TOKEN: "ev" }).FLEET_EVENTS_TOKEN).toBe("ev");
  });

  it("ignores FLEET_ADMIN_TOKEN: the console never holds the admin token", () => {
    expect(parseConsoleEnv({ FLEET_ADMIN_TOKEN: "t" })).not.toHaveProperty("FLEET_ADMIN_TOKEN");
  });

  it.each<[Record<string, string>, string[]]>([
    [{ FLEET_SERVER_URL: "nats://x:4222" }, ["FLEET_SERVER_URL: must be an http(s) URL"]],
    [{ FLEET_EVENTS_HEARTBEAT_MS: "soon" }, ["FLEET_EVENTS_HEARTBEAT_MS: must be a number"]],
    [{ FLEET_EVENTS_HEARTBEAT_MS: "5" }, ["FLEET_EVENTS_HEARTBEAT_MS: must be at least 100 ms"]],
    [{ FLEET_CONSOLE_MAX_STREAMS: "0" }, ["FLEET_CONSOLE_MAX_STREAMS: must be at least 1"]],
    [{ FLEET_SERVER_URL: "not a url", FLEET_CONSOLE_URL: "ftp://x" }, ["FLEET_SERVER_URL: must be an http(s) URL", "FLEET_CONSOLE_URL: must be an http(s) URL"]],
  ])("rejects %o naming every bad key", (env, problems) => {
    let message = "";
    try {
      parseConsoleEnv(env);
    } catch (e) {
      message = (e as Error).message;
    }
    for (const p of problems) expect(message).toContain(p);
  });
});
