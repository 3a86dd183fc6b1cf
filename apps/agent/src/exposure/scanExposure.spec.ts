import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "@fleet/test-utils";
import { scanExposure } from "./scanExposure.js";
import { readListeningSockets } from "./readListeningSockets.js";
import { ZExposureConfig } from "./ZExposureConfig.js";

/** A stand-in LLM server on a probe port: answers GET /api/tags, with or without a bearer check. */
async function startLlmServer(host: string, requireAuth: boolean, port: number): Promise<http.Server & { port: number }> {
  const server = http.createServer((req, res) => {
    if (requireAuth && req.headers.authorization !== "Bearer secret") {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ models: [{ name: "llama3" }] }));
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function scanPort(port: number) {
  const config = ZExposureConfig.parse({ localLlmServers: [{ name: "probe", port, probePath: "/api/tags" }], probeTimeoutMs: 1000 });
  const scan = await scanExposure({ config, api: null, models: [], approved: null });
  return scan.localLlmServers[0];
}

describe("exposure scan", () => {
  it("finds a local server that answers without auth on loopback, and loses it when it stops", async () => {
    const s = await startLlmServer("127.0.0.1", false, await freePort());
    servers.push(s);
    expect(await scanPort(s.port)).toEqual({
      name: "probe",
      port: s.port,
      found: true,
      boundAddresses: ["127.0.0.1"],
      loopbackOnly: true,
      answersWithoutAuth: true,
      probePath: "/api/tags",
      probeStatus: 200,
    });
    await new Promise((r) => s.close(r));
    expect(await scanPort(s.port)).toMatchObject({ found: false, boundAddresses: [], answersWithoutAuth: null });
  });

  it("tells a server bound to all interfaces and requiring auth", async () => {
    const s = await startLlmServer("0.0.0.0", true, await freePort());
    servers.push(s);
    expect(await scanPort(s.port)).toMatchObject({ found: true, boundAddresses: ["0.0.0.0"], loopbackOnly: false, answersWithoutAuth: false, probeStatus: 401 });
  });

  it("reads listening sockets from /proc/net, IPv4 and IPv6", async () => {
    const s = await startLlmServer("::1", false, await freePort());
    servers.push(s);
    const sockets = await readListeningSockets();
    expect(sockets).not.toBeNull();
    expect(sockets).toContainEqual({ address: "::1", port: s.port });
  });

  it("marks models approved only when the synced catalog lists their hash", async () => {
    const config = ZExposureConfig.parse({ localLlmServers: [] });
    const models = [
      { sha256: "a".repeat(64), fileName: "approved.gguf" },
      { sha256: "b".repeat(64), fileName: "other.gguf" },
    ];
    const synced = await scanExposure({ config, api: null, models, approved: { approvedSha256s: () => new Set(["a".repeat(64)]) } });
    expect(synced.catalogSynced).toBe(true);
    expect(synced.models.map((m) => m.provenance)).toEqual(["catalog-approved", "unknown"]);
    const notSynced = await scanExposure({ config, api: null, models, approved: { approvedSha256s: () => null } });
    expect(notSynced.catalogSynced).toBe(false);
    expect(notSynced.models.map((m) => m.provenance)).toEqual(["unknown", "unknown"]);
  });
});
