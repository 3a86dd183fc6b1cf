import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, serverKeySha256 } from "@fleet/protocol";
import { runCli } from "../apps/agent/src/cli/runCli.js";
import { startTestServer, type TestServer } from "./support/server.js";

// Enrollment carries a one-time token and brings back the key the agent will trust for every command: it must not
// travel in clear to another machine, must not be readable in `ps`, and the answer must come from the pinned server.
let srv: TestServer;
let tmp: string;
beforeAll(async () => {
  srv = await startTestServer();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-enroll-transport-"));
});
afterAll(async () => {
  await srv?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

const newToken = async () => {
  const r = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
  return (await r.json()) as { token: string; serverKeySha256: string };
};
let n = 0;
async function enroll(args: string[], stdin?: string) {
  const home = path.join(tmp, `home-${++n}`);
  let out = "";
  let err = "";
  const code = await runCli(["enroll", "--home", home, ...args], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { FLEET_AGENT_HOME: home },
    stdin: stdin === undefined ? undefined : Readable.from([stdin]),
  });
  return { code, out, err, enrolled: existsSync(path.join(home, "state.json")) };
}

describe("fleet-agent enroll: transport, pin, token source", () => {
  it("a new token comes with the server key's thumbprint, and enrolling with that pin and a token file works", async () => {
    const { token, serverKeySha256: pin } = await newToken();
    const key = JSON.parse(await fs.readFile(srv.config.serverKeyFile, "utf8")) as { kty: "OKP"; crv: "Ed25519"; x: string };
    expect(pin).toBe(await serverKeySha256(key));
    const file = path.join(tmp, "token");
    await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
    const r = await enroll(["--server", srv.url, "--token-file", file, "--server-key-sha256", pin]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.enrolled).toBe(true);
  });

  it("reads the token from standard input with --token-file -", async () => {
    const { token, serverKeySha256: pin } = await newToken();
    const r = await enroll(["--server", srv.url, "--token-file", "-", "--server-key-sha256", pin], `${token}\n`);
    expect(r.code).toBe(0);
    expect(r.enrolled).toBe(true);
  });

  it("refuses a server whose key is not the pinned one, and stores nothing", async () => {
    const { token } = await newToken();
    const other = await serverKeySha256((await generateSigningKeyPair()).publicJwk);
    const r = await enroll(["--server", srv.url, "--token", token, "--server-key-sha256", other]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`server_key_mismatch.*is not the pinned ${other}`));
    expect(r.enrolled).toBe(false);
  });

  it("--token still works but warns that it is visible in ps; no pin is noted", async () => {
    const { token } = await newToken();
    const r = await enroll(["--server", srv.url, "--token", token]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: --token puts the enrollment token in the process list/);
    expect(r.err).toMatch(/not pinned/);
  });

  it.each([
    ["http to another machine", ["--server", "http://fleet.example.com", "--token", "t".repeat(20)], 1, /insecure_transport: refusing plain http to fleet\.example\.com/],
    ["another scheme", ["--server", "ftp://fleet.example.com", "--token", "t".repeat(20)], 2, /serverUrl/],
    ["no token at all", ["--server", "https://fleet.example.com"], 2, /enrollment token is required: --token-file/],
    ["both token flags", ["--server", "https://fleet.example.com", "--token", "t".repeat(20), "--token-file", "-"], 2, /either --token-file or --token/],
    ["a malformed pin", ["--server", "https://fleet.example.com", "--token", "t".repeat(20), "--server-key-sha256", "abc"], 2, /43-character base64url/],
    ["an empty token file", ["--server", "https://fleet.example.com", "--token-file", "/dev/null"], 2, /is empty/],
  ])("refuses %s before sending anything", async (_name, args, code, message) => {
    const r = await enroll(args as string[]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.enrolled).toBe(false);
  });

  // A hostile or broken control plane: the answer is validated before anything is stored.
  it.each([
    ["a NATS URL of another scheme", { natsUrl: "http://127.0.0.1:4222" }, /natsUrl.*nats:\/\/, tls:\/\/, ws:\/\/ or wss:\/\//],
    ["a subject prefix with wildcards", { subjectPrefix: "fleet.>" }, /subjectPrefix.*dot-separated tokens/],
  ])("refuses an enrollment answer with %s", async (_name, override, message) => {
    const { publicJwk } = await generateSigningKeyPair();
    const answer = {
      deviceId: "dev_AAAAAAAAAAAAAAAA",
      subjectPrefix: "fleet.v1",
      natsUrl: "nats://127.0.0.1:4222",
      serverPublicKeyJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x },
      heartbeatIntervalSec: 30,
      ...override,
    };
    const hostile = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(answer)));
    });
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      const r = await enroll(["--server", url, "--token", "t".repeat(20)]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/invalid_response/);
      expect(r.err).toMatch(message);
      expect(r.enrolled).toBe(false);
    } finally {
      hostile.close();
    }
  });
});
