import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { rotateLocalApiToken, writeState } from "../state/stateFile.js";
import { makeTestIdentity } from "../testing/testState.js";
import { until } from "../runtime/testing/runtimeFixtures.js";
import { apiTokenFromState } from "./apiTokenFromState.js";

describe("apiTokenFromState", () => {
  it("follows a token rotation without a restart", async () => {
    const home = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "fleet-token-")), "home");
    const { state } = await makeTestIdentity();
    await writeState(home, state);
    const token = apiTokenFromState(home, state.localApiToken);
    expect(token()).toBe(state.localApiToken);
    const rotated = await rotateLocalApiToken(home);
    expect(rotated).not.toBe(state.localApiToken);
    await until(() => token() === rotated, 5000);
    await fs.rm(path.dirname(home), { recursive: true, force: true });
  });
});
