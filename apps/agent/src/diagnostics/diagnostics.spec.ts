import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/runCli.js";
import type { CliIo } from "../cli/CliIo.js";
import { writeState } from "../state/stateFile.js";
import { makeTestIdentity } from "../testing/testState.js";
import type { AgentState } from "../state/ZAgentState.js";
import { TINY_MODEL } from "../runtime/testing/runtimeFixtures.js";
import type { DoctorReport } from "./collectDoctorReport.js";
import { formatDoctorReport } from "./formatDoctorReport.js";

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: {} };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe("fleet-agent doctor and support-bundle", () => {
  let root: string;
  let home: string;
  let state: AgentState;
  const NATS_PASSWORD = "n4ts-pa55word-very-secret";

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-diag-"));
    home = path.join(root, "home");
    state = (await makeTestIdentity()).state;
    await writeState(home, state);
    await fs.mkdir(path.join(home, "models"));
    await fs.copyFile(TINY_MODEL, path.join(home, "models", "tiny.gguf"));
    await fs.writeFile(
      path.join(home, "config.json"),
      JSON.stringify({ natsUrl: `nats://agent:${NATS_PASSWORD}@127.0.0.1:4222`, runtime: { contextSize: 1024, threads: 1, headroomBytes: 0 } }),
    );
    await fs.mkdir(path.join(home, "logs"));
    await fs.writeFile(
      path.join(home, "logs", "agent.log"),
      [
        JSON.stringify({ level: 30, msg: "local API request", authorization: `Bearer ${state.localApiToken}` }),
        `curl -H "Authorization: Bearer ${state.localApiToken}" http://127.0.0.1:11435/v1/models`,
        JSON.stringify({ level: 50, msg: "oops", localApiToken: state.localApiToken, d: state.privateJwk.d }),
        "plain line mentioning the token " + state.localApiToken,
      ].join("\n"),
    );
  });
  afterAll(async () => fs.rm(root, { recursive: true, force: true }));

  it("doctor prints capabilities, a plan per installed model and the API exposure", async () => {
    const json = await cli(["doctor", "--home", home, "--json"]);
    expect(json.err).toBe("");
    expect(json.code).toBe(0);
    const r = JSON.parse(json.out) as DoctorReport;
    expect(r.capabilities?.backends).toContain("cpu");
    expect(r.models).toHaveLength(1);
    expect(r.models[0]).toMatchObject({ id: "tiny.gguf", plan: { fits: true, placement: "cpu", contextSize: 1024 } });
    expect(r.api).toMatchObject({ enabled: true, bind: "127.0.0.1", loopbackOnly: true, tokenPresent: true, refusal: null });
    expect(json.out).not.toContain(state.localApiToken);

    // the text form of the same report (one inference host start per CLI call is enough)
    const text = formatDoctorReport(r);
    expect(text).toMatch(/Backends: cpu/);
    expect(text).toMatch(/tiny\.gguf \(1\.7 MiB\): fits at context 1024 on CPU/);
    expect(text).toMatch(/http:\/\/127\.0\.0\.1:11435 \(this machine only\)/);
    expect(formatDoctorReport({ ...r, api: { ...r.api, bind: "0.0.0.0", loopbackOnly: false, refusal: "refusing to bind" } })).toMatch(/WILL NOT START: refusing to bind/);
  });

  it("support-bundle writes a redacted archive, prints its path, and no secret is in it", async () => {
    const r = await cli(["support-bundle", "--home", home, "--out", path.join(root, "out")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const file = r.out.trim();
    expect(file).toMatch(/fleet-agent-support-dev-.*\.tar\.gz$/);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const extracted = path.join(root, "x");
    await fs.mkdir(extracted);
    execFileSync("tar", ["-xzf", file, "-C", extracted]);
    const files = (await fs.readdir(extracted, { recursive: true })).map(String).sort();
    expect(files).toEqual(expect.arrayContaining(["config.json", "state-summary.json", "doctor.json", "doctor.txt", "inventory.json", "versions.json", "logs/agent.log"]));
    let all = "";
    for (const f of files) {
      const p = path.join(extracted, f);
      if ((await fs.stat(p)).isFile()) all += await fs.readFile(p, "utf8");
    }
    for (const secret of [state.localApiToken, state.privateJwk.d, NATS_PASSWORD]) expect(all).not.toContain(secret);
    const config = JSON.parse(await fs.readFile(path.join(extracted, "config.json"), "utf8"));
    expect(config.natsUrl).toBe("nats://[redacted]@127.0.0.1:4222");
    expect(config.runtime.api.maxTokens).toBe(2048);
    expect(JSON.parse(await fs.readFile(path.join(extracted, "state-summary.json"), "utf8"))).toMatchObject({ deviceId: state.deviceId });
    expect(JSON.parse(await fs.readFile(path.join(extracted, "doctor.json"), "utf8")).models[0].plan.fits).toBe(true);
    expect(await fs.readFile(path.join(extracted, "logs/agent.log"), "utf8")).toMatch(/local API request/);
  });
});
