import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZComplianceViolationListV1, type TComplianceViolationV1 } from "@fleet/protocol";
import { freePort, waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "./support/server.js";
import { startLocalAgent, TINY_SHA256, type LocalAgent } from "./support/localAgent.js";

/**
 * The real agent's exposure scan finds a real unauthenticated HTTP server on a probe port; the server turns its
 * posture into a violation and resolves it when the probe server stops. Its real model (not in the catalog) is an
 * unapproved-model violation until the file is removed.
 */
describe("compliance from a real agent's exposure scan", () => {
  let srv: TestServer;
  let agent: LocalAgent;
  let probe: http.Server;
  let probePort: number;

  const violations = async (q: string): Promise<TComplianceViolationV1[]> =>
    ZComplianceViolationListV1.parse(await (await srv.admin(`/api/v1/compliance/violations?deviceId=${agent.state.deviceId}&${q}`)).json()).items;

  beforeAll(async () => {
    srv = await startTestServer();
    probePort = await freePort();
    // an LLM server stand-in that lists its models to anyone, as Ollama does by default
    probe = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"data":[{"id":"llama3"}]}'));
    await new Promise<void>((r) => probe.listen(probePort, "127.0.0.1", r));
    const res = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    const { token } = (await res.json()) as { token: string };
    agent = await startLocalAgent({
      serverUrl: srv.url,
      token,
      hostname: "e2e-exposed",
      configFlags: { postureIntervalSec: 0.5, exposure: { localLlmServers: [{ name: "probe", port: probePort, probePath: "/v1/models" }], probeTimeoutMs: 500 } },
    });
  });
  afterAll(async () => {
    await agent?.dispose();
    if (probe?.listening) await new Promise((r) => probe.close(r));
    await srv?.close();
  });

  it("an unauthenticated local server on the probe port is a violation, resolved when it stops", async () => {
    const [open] = await waitFor(async () => {
      const v = await violations("policy=no_unauthenticated_llm_server&state=open");
      return v.length ? v : null;
    }, "the probe server flagged", 30_000);
    expect(open).toMatchObject({ subject: `probe:${probePort}`, evidence: { port: probePort, boundAddresses: ["127.0.0.1"], loopbackOnly: true, probeStatus: 200 } });
    // the posture stored with it carries the scan
    const posture = await srv.db.prisma.postureReport.findFirstOrThrow({ where: { deviceId: agent.state.deviceId }, orderBy: { receivedAt: "desc" } });
    expect((posture.data as { exposure?: { localLlmServers: unknown[] } }).exposure?.localLlmServers).toContainEqual(expect.objectContaining({ port: probePort, found: true, answersWithoutAuth: true }));

    await new Promise((r) => probe.close(r));
    const resolved = await waitFor(async () => (await violations("policy=no_unauthenticated_llm_server&state=resolved")).find((v) => v.id === open!.id), "the violation resolved", 30_000);
    expect(resolved.resolvedAt).not.toBeNull();
  });

  it("the agent's model, not in the catalog, is a violation until it is removed", async () => {
    const [open] = await waitFor(async () => {
      const v = await violations("policy=approved_models&state=open");
      return v.length ? v : null;
    }, "the unapproved model flagged", 30_000);
    expect(open).toMatchObject({ subject: TINY_SHA256, evidence: { fileName: "llama-2-tiny-random.gguf" } });
    await fs.rm(path.join(agent.modelsDir, "llama-2-tiny-random.gguf"));
    await waitFor(async () => (await violations("policy=approved_models&state=open")).length === 0, "the violation resolved after removal", 30_000);
    expect((await violations("policy=approved_models&state=resolved")).map((v) => v.subject)).toEqual([TINY_SHA256]);
  });
});
