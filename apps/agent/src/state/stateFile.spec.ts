import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotEnrolledError, StateError } from "../errors.js";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { readState, rotateLocalApiToken, stateFilePath, writeState } from "./stateFile.js";

describe("state file", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: root, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it("is written owner-only (file 0600, dir 0700) and reads back", async () => {
    const home = path.join(root, "home");
    const { state } = await makeTestIdentity();
    await writeState(home, state);
    expect((await fs.stat(stateFilePath(home))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    expect(await readState(home)).toEqual(state);
    // no temp file left behind by the atomic write
    expect(await fs.readdir(home)).toEqual(["state.json"]);
  });

  it("tightens an existing home dir", async () => {
    const home = path.join(root, "open");
    await fs.mkdir(home, { mode: 0o755 });
    await writeState(home, (await makeTestIdentity()).state);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
  });

  it("says 'not enrolled' when there is no state, and rejects a corrupt one", async () => {
    await expect(readState(root)).rejects.toBeInstanceOf(NotEnrolledError);
    await fs.writeFile(stateFilePath(root), JSON.stringify({ v: 1, deviceId: "x" }));
    await expect(readState(root)).rejects.toThrow(StateError);
    await expect(readState(root)).rejects.toThrow(/privateJwk/);
  });

  it("rotates the local API token and keeps the rest", async () => {
    const { state } = await makeTestIdentity();
    await writeState(root, state);
    const token = await rotateLocalApiToken(root);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).not.toBe(state.localApiToken);
    expect(await readState(root)).toEqual({ ...state, localApiToken: token });
  });
});
