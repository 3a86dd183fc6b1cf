import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { tempDir } from "../testing/tempDir.js";
import { loadAgentConfig } from "./loadAgentConfig.js";

describe("loadAgentConfig", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: root, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it("derives defaults from the home dir", async () => {
    const c = await loadAgentConfig({ env: { FLEET_AGENT_HOME: root } });
    expect(c.home).toBe(root);
    expect(c.modelsDir).toBe(path.join(root, "models"));
    expect(c.serverUrl).toBeNull();
    expect(c.commandsStream).toBe("FLEET_COMMANDS");
    expect(c.runtime.api.host).toBe("127.0.0.1");
    expect(c.runtime.threads).toBeNull();
  });

  it("layers file < env < flags, and reads <home>/config.json by default", async () => {
    await fs.writeFile(
      path.join(root, "config.json"),
      JSON.stringify({ serverUrl: "http://file:1", natsUrl: "nats://file:4222", inventoryIntervalSec: 10, modelsDir: "m", runtime: { threads: 2 } }),
    );
    const c = await loadAgentConfig({
      env: { FLEET_AGENT_HOME: root, FLEET_NATS_URL: "nats://env:4222", FLEET_AGENT_INVENTORY_SEC: "20" },
      flags: { serverUrl: "http://flag:2" },
    });
    expect(c.serverUrl).toBe("http://flag:2");
    expect(c.natsUrl).toBe("nats://env:4222");
    expect(c.inventoryIntervalSec).toBe(20);
    expect(c.modelsDir).toBe(path.join(root, "m")); // relative to the config file
    expect(c.runtime.threads).toBe(2);
  });

  it("lists every bad key at once", async () => {
    const file = path.join(root, "agent.json");
    await fs.writeFile(
      file,
      JSON.stringify({ serverUrl: "ftp://x", heartbeatIntervalSec: -1, colour: "blue", runtime: { threads: 0, turbo: true }, queue: { maxMessages: "many" } }),
    );
    const err = await loadAgentConfig({ configFile: file, env: { FLEET_AGENT_HOME: root, FLEET_AGENT_HEARTBEAT_SEC: "soon" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues.join("\n");
    for (const needle of ["FLEET_AGENT_HEARTBEAT_SEC", "serverUrl", "heartbeatIntervalSec", "colour", "runtime.threads", "turbo", "queue.maxMessages"]) {
      expect(issues).toContain(needle);
    }
  });

  it("refuses an explicit config file that is missing or not JSON", async () => {
    await expect(loadAgentConfig({ configFile: path.join(root, "nope.json"), env: { FLEET_AGENT_HOME: root } })).rejects.toThrow(/nope\.json/);
    await fs.writeFile(path.join(root, "bad.json"), "{");
    await expect(loadAgentConfig({ configFile: path.join(root, "bad.json"), env: { FLEET_AGENT_HOME: root } })).rejects.toThrow(/not valid JSON/);
  });
});
