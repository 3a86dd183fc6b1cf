import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKeyPair, importPrivateJwk, MAX_REPORT_BYTES, exampleHeartbeat, subjects } from "@fleet/protocol";
import { waitFor } from "@fleet/test-utils";
import { startTestServer, type TestServer } from "./support/server.js";
import { startLocalAgent, type LocalAgent } from "./support/localAgent.js";

const agentCli = fileURLToPath(new URL("../apps/agent/dist/cli/main.js", import.meta.url));

function rejected(metrics: string, reason: string): number {
  const m = new RegExp(`^fleet_reports_rejected_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`, "m").exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe("security at the boundaries", () => {
  let srv: TestServer;
  let agent: LocalAgent;
  const newToken = async (ttlSeconds = 600) => {
    const r = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds }) });
    return ((await r.json()) as { id: string; token: string }).token;
  };
  const cliEnroll = async (token: string) => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-cli-"));
    // Asynchronous on purpose: the server runs in this process and must keep answering while the CLI waits.
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [agentCli, "enroll", "--server", srv.url, "--token", token, "--home", home], { timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    await fs.rm(home, { recursive: true, force: true });
    return r;
  };

  /**
   * A report on another device's subject. NATS with per-device identity refuses it from the device itself; it is then
   * sent as it could arrive on a NATS without that (or published before a revocation), and the server must refuse it too.
   */
  const onOtherSubject = async (from: Awaited<ReturnType<TestServer["enrollDevice"]>>, data: string, deviceId: string) => {
    if (srv.nats.keysFile) {
      if (deviceId !== from.id) await expect(from.publishRaw("heartbeat", data, deviceId)).rejects.toThrow(/permissions violation/i);
      const nc = await connect(srv.nats.connectOptions());
      await nc.jetstream().publish(subjects(srv.config.subjectPrefix).report(deviceId, "heartbeat"), new TextEncoder().encode(data));
      await nc.close();
    } else {
      await from.publishRaw("heartbeat", data, deviceId);
    }
  };

  beforeAll(async () => {
    srv = await startTestServer();
    agent = await startLocalAgent({ serverUrl: srv.url, token: await newToken(), hostname: "e2e-sec" });
  });
  afterAll(async () => {
    await agent?.dispose();
    await srv?.close();
  });

  it("the agent CLI refuses a reused token, with the server's reason", async () => {
    const token = await newToken();
    const first = await cliEnroll(token);
    expect(first.status, first.stderr).toBe(0);
    const again = await cliEnroll(token);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("enrollment_token_used");
  });

  it("the agent CLI refuses an expired token", async () => {
    const token = await newToken(60);
    // Travel in time: the token's expiry passes.
    await srv.db.prisma.enrollmentToken.updateMany({ where: { usedAt: null }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const r = await cliEnroll(token);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("enrollment_token_expired");
  });

  it("rejects and counts unsigned, forged, cross-device, malformed and oversized reports, and keeps serving", async () => {
    await waitFor(() => srv.db.prisma.heartbeat.count({ where: { deviceId: agent.state.deviceId } }), "a first heartbeat from the real agent");
    const mallory = await srv.enrollDevice("mallory");
    const before = await srv.metrics();

    // unsigned: a well-formed report as plain JSON
    await mallory.publishRaw("heartbeat", JSON.stringify(mallory.report("heartbeat", exampleHeartbeat)));
    // forged: claims to be the real agent (kid and payload), signed with a key that is not the agent's
    const forger = await importPrivateJwk((await generateSigningKeyPair()).privateJwk);
    const forged = mallory.report("heartbeat", exampleHeartbeat, { deviceId: agent.state.deviceId });
    await onOtherSubject(mallory, await mallory.sign(forged, forger), agent.state.deviceId);
    // wrong device: mallory's own valid signature, published on the agent's subject
    await onOtherSubject(mallory, await mallory.sign(mallory.report("heartbeat", exampleHeartbeat)), agent.state.deviceId);
    // malformed
    await mallory.publishRaw("inventory", "{not json");
    // oversized
    await mallory.publishRaw("inventory", new Uint8Array(MAX_REPORT_BYTES + 10));
    // replayed: the same signed report twice is stored once
    const replay = await mallory.sign(mallory.report("heartbeat", exampleHeartbeat, { msgId: randomUUID() }));
    await mallory.publishRaw("heartbeat", replay);
    await mallory.publishRaw("heartbeat", replay);

    const after = await waitFor(async () => {
      const m = await srv.metrics();
      const grew = (r: string) => rejected(m, r) > rejected(before, r);
      return grew("unsigned") && grew("bad_signature") && grew("device_mismatch") && grew("malformed") && grew("oversized") ? m : null;
    }, "every rejection to be counted");
    expect(rejected(after, "malformed") - rejected(before, "malformed")).toBe(1);

    // Nothing was stored in the agent's name, and mallory's replayed heartbeat exists once.
    const agentBeats = await srv.db.prisma.heartbeat.findMany({ where: { deviceId: agent.state.deviceId } });
    expect(agentBeats.every((h) => h.agentVersion !== exampleHeartbeat.agentVersion || h.rssBytes !== BigInt(exampleHeartbeat.rssBytes))).toBe(true);
    await waitFor(() => srv.db.prisma.heartbeat.count({ where: { deviceId: mallory.id } }), "mallory's one valid heartbeat");
    expect(await srv.db.prisma.heartbeat.count({ where: { deviceId: mallory.id } })).toBe(1);
    expect(await srv.db.prisma.auditLog.count({ where: { action: "report.rejected" } })).toBeGreaterThanOrEqual(5);

    // The server is still up and still stores the real agent's reports.
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    const n = await srv.db.prisma.heartbeat.count({ where: { deviceId: agent.state.deviceId } });
    await waitFor(async () => (await srv.db.prisma.heartbeat.count({ where: { deviceId: agent.state.deviceId } })) > n, "a later heartbeat from the real agent");
  });

  it("a revoked device is no longer heard", async () => {
    const eve = await srv.enrollDevice("eve");
    const r = await srv.admin(`/api/v1/devices/${eve.id}/revoke`, { method: "POST" });
    expect(r.status).toBeLessThan(300);
    const before = rejected(await srv.metrics(), "unknown_device");
    if (srv.nats.keysFile) {
      // her NATS user is revoked: the connection is dropped for good
      expect(String(await eve.nc.closed())).toMatch(/authorization|revoked/i);
      await onOtherSubject(eve, await eve.sign(eve.report("heartbeat", exampleHeartbeat)), eve.id);
    } else {
      await eve.publish(eve.report("heartbeat", exampleHeartbeat));
    }
    await waitFor(async () => rejected(await srv.metrics(), "unknown_device") > before, "the revoked device's report to be rejected");
    expect(await srv.db.prisma.heartbeat.count({ where: { deviceId: eve.id } })).toBe(0);
  });
});
