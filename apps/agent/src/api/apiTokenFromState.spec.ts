import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { rotateLocalApiToken, STATE_FILE, writeState } from "../state/stateFile.js";
import type { AgentState } from "../state/ZAgentState.js";
import { makeTestIdentity } from "../testing/testState.js";
import { until } from "../runtime/testing/runtimeFixtures.js";
import { apiTokenFromState } from "./apiTokenFromState.js";

/** A real pino logger writing into an array, to see what an operator would see. */
function recordingLogger() {
  const lines: { level: number; msg: string; err?: string }[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), lines };
}

describe("apiTokenFromState", () => {
  let root: string;
  let home: string;
  let state: AgentState;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-token-"));
    home = path.join(root, "home");
    ({ state } = await makeTestIdentity());
    await writeState(home, state);
  });
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it("follows a token rotation without a restart", async () => {
    const token = apiTokenFromState(home, state.localApiToken);
    expect(token()).toBe(state.localApiToken);
    const rotated = await rotateLocalApiToken(home);
    expect(rotated).not.toBe(state.localApiToken);
    await until(() => token() === rotated, 5000);
  });

  it("still follows rotation when the watched directory is replaced (the watch is dead, the poll is not)", async () => {
    const { logger, lines } = recordingLogger();
    const token = apiTokenFromState(home, state.localApiToken, { logger, pollMs: 100 });
    await fs.rm(home, { recursive: true });
    // the watch saw the deletion (and reported the missing file); from here on it watches nothing
    await until(() => lines.some((l) => l.msg.startsWith("cannot re-read state.json")), 5000);
    await writeState(home, state); // a restored home: a new directory the old watch does not see
    const rotated = await rotateLocalApiToken(home);
    await until(() => token() === rotated, 5000);
    expect(lines.some((l) => l.msg === "local API token reloaded from state.json")).toBe(true);
  });

  it("an unreadable state.json keeps the last good token and says so; a good one is picked up again", async () => {
    const { logger, lines } = recordingLogger();
    const token = apiTokenFromState(home, state.localApiToken, { logger, pollMs: 100 });
    await fs.writeFile(path.join(home, STATE_FILE), "{torn");
    await until(() => lines.some((l) => l.msg.startsWith("cannot re-read state.json")), 5000);
    expect(token()).toBe(state.localApiToken);
    const warn = lines.find((l) => l.msg.startsWith("cannot re-read state.json"))!;
    expect(warn.level).toBe(40);
    await writeState(home, state);
    const rotated = await rotateLocalApiToken(home);
    await until(() => token() === rotated, 5000);
    expect(lines.some((l) => l.msg === "state.json is readable again")).toBe(true);
  });
});
