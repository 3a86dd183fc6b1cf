import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connect, credsAuthenticator } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@fleet/test-utils";
import { runCli } from "../cli.js";
import { NatsAuthority } from "./nats-authority.js";

let dir: string;
let proc: ChildProcess | null = null;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-nats-config-"));
});
afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const gone = new Promise((r) => proc!.once("exit", r));
    proc.kill("SIGTERM");
    await gone;
  }
  await fs.rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { env: {}, out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe("fleet-server nats-config", () => {
  it("creates the keys once (0600), writes a config nats-server starts with, and creds the server connects with", async () => {
    const keys = path.join(dir, "keys", "nats-keys.json");
    const conf = path.join(dir, "nats-auth.conf");
    const creds = path.join(dir, "server.creds");
    const first = await run(["nats-config", "--keys", keys, "--out", conf, "--creds", creds]);
    expect(first).toMatchObject({ code: 0, err: "" });
    expect((await fs.stat(keys)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(creds)).mode & 0o777).toBe(0o600);
    const keysText = await fs.readFile(keys, "utf8");
    const account = (await NatsAuthority.load(keys)).accountPublicKey;
    expect(first.out).toContain(account);

    // again: same keys, so JWTs issued before stay valid
    expect((await run(["nats-config", "--keys", keys, "--out", conf])).code).toBe(0);
    expect(await fs.readFile(keys, "utf8")).toBe(keysText);
    const config = await fs.readFile(conf, "utf8");
    expect(config).toMatch(/^operator: "ey/m);
    expect(config).toMatch(/^resolver: MEMORY$/m);
    expect(config).not.toMatch(/S[OAU][A-Z2-7]{56}/); // no seed in the config

    const port = await freePort();
    proc = spawn("nats-server", ["-c", conf, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "js")], { stdio: "ignore" });
    const serverNc = await waitFor(async () => connect({ port, reconnect: false, authenticator: credsAuthenticator(await fs.readFile(creds)) }).catch(() => null), "nats-server accepts the server creds");
    const jsm = await serverNc.jetstreamManager(); // JetStream is on for the fleet account
    expect((await jsm.getAccountInfo()).limits.max_storage).toBe(-1);
    await serverNc.close();
    await expect(connect({ port, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it("refuses a keys file that is not one", async () => {
    const keys = path.join(dir, "bad.json");
    await fs.writeFile(keys, JSON.stringify({ v: 1, operatorSeed: "nope" }));
    const r = await run(["nats-config", "--keys", keys, "--out", path.join(dir, "x.conf")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.json is not a NATS keys file/);
  });
});
