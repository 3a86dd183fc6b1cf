import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort, startNatsServer, type TestNatsServer } from "@fleet/test-utils";
import { readState, writeState } from "../state/stateFile.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { scanModels } from "../models/scanModels.js";
import { runCli } from "./runCli.js";
import fs from "node:fs/promises";
import { TINY_MODEL, TINY_MODEL_SHA256 } from "../testing/tempDir.js";

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), env });
  return { code, out, err };
}

describe("fleet-agent CLI", () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: home, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it.each([
    [["enroll", "--server", "http://x"], /enrollment token is required: --token-file/],
    [["enroll", "--token", "t".repeat(20)], /required option '--server/],
    [["status", "--colour"], /unknown option '--colour'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["status", "extra-arg"], /too many arguments/],
  ])("exits 2 on bad usage: %j", async (argv, message) => {
    const r = await cli(argv, { FLEET_AGENT_HOME: home });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it("exits 2 listing every bad config key", async () => {
    await fs.writeFile(path.join(home, "config.json"), JSON.stringify({ natsUrl: "http://wrong", bogus: 1 }));
    const r = await cli(["status"], { FLEET_AGENT_HOME: home });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/natsUrl/);
    expect(r.err).toMatch(/bogus/);
  });

  it("says how to enroll when there is no state", async () => {
    const r = await cli(["status", "--home", home]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not enrolled.*fleet-agent enroll/);
  });

  it("refuses to enroll over an existing identity without --force", async () => {
    await writeState(home, (await makeTestIdentity()).state);
    const r = await cli(["enroll", "--server", "http://127.0.0.1:9", "--token", "t".repeat(20), "--home", home]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already enrolled.*--force/);
  });

  it("reports an unreachable server with a readable error", async () => {
    const port = await freePort();
    const r = await cli(["enroll", "--server", `http://127.0.0.1:${port}`, "--token", "t".repeat(20), "--home", home]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/enrollment failed: unreachable: cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v1\/enroll/);
  });

  it("rotates the local API token", async () => {
    const { state } = await makeTestIdentity();
    await writeState(home, state);
    const r = await cli(["token", "rotate", "--home", home]);
    expect(r.code).toBe(0);
    const token = r.out.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await readState(home)).localApiToken).toBe(token);
  });

  describe("status", () => {
    let nats: TestNatsServer;
    beforeAll(async () => (nats = await startNatsServer()));
    afterAll(async () => nats?.dispose());

    it("prints identity, NATS reachability, queue depth and models with short hashes", async () => {
      const { state } = await makeTestIdentity({ natsUrl: nats.url }, nats);
      await writeState(home, state);
      await fs.mkdir(path.join(home, "models"));
      await fs.copyFile(TINY_MODEL, path.join(home, "models", "tiny.gguf"));
      await scanModels(path.join(home, "models"), { cacheFile: path.join(home, "hash-cache.json") });
      await fs.copyFile(TINY_MODEL, path.join(home, "models", "new.gguf")); // not hashed yet

      const json = await cli(["status", "--json", "--home", home]);
      expect(json.code).toBe(0);
      const s = JSON.parse(json.out);
      expect(s).toMatchObject({ deviceId: state.deviceId, nats: { url: nats.url, reachable: true }, queue: { depth: 0 } });
      expect(s.models.map((m: { sha256: string | null }) => m.sha256)).toEqual([null, TINY_MODEL_SHA256]);

      const text = await cli(["status", "--home", home]);
      expect(text.code).toBe(0);
      expect(text.out).toContain(`device:     ${state.deviceId}`);
      expect(text.out).toMatch(/reachable \(rtt/);
      expect(text.out).toContain(`${TINY_MODEL_SHA256.slice(0, 12)}  tiny.gguf  llama F16`);
      expect(text.out).toContain("(not hashed)  new.gguf");
    });

    it("shows NATS as unreachable when it is", async () => {
      const { state } = await makeTestIdentity({ natsUrl: `nats://127.0.0.1:${await freePort()}` });
      await writeState(home, state);
      const r = await cli(["status", "--home", home]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/UNREACHABLE/);
    });
  });
});
