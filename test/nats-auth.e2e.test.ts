import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { AgentService, enroll, loadAgentConfig } from "@fleet/agent";
import { createServer, parseEnv, type FleetServer } from "@fleet/server";
import { exampleHeartbeat } from "@fleet/protocol";
import { startLocalAgent, TINY_MODEL, TINY_SHA256, type LocalAgent } from "./support/localAgent.js";
import { startTestServer, type TestServer } from "./support/server.js";

const ADMIN = "nats-auth-admin-token-0123456789";

// NATS with credentials: the server and the agent take them from their URLs (nats.js alone would ignore them),
// the agent's own credentials stay on the device, and nothing logs or reports them.
describe("NATS that requires credentials", () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let server: FleetServer;
  let home: string;
  let agent: AgentService | null = null;

  beforeAll(async () => {
    [nats, db, home] = await Promise.all([
      startNatsServer({ user: "fleet", pass: "s3cret:with@chars" }),
      createTestDatabase(),
      fs.mkdtemp(path.join(os.tmpdir(), "fleet-e2e-auth-")),
    ]);
    const plainUrl = `nats://127.0.0.1:${nats.port}`;
    server = await createServer(
      parseEnv({
        DATABASE_URL: db.url, NATS_URL: nats.url, FLEET_PUBLIC_NATS_URL: plainUrl, PORT: "0", FLEET_ADMIN_TOKEN: ADMIN,
        FLEET_SERVER_KEY_FILE: path.join(home, "server-key.json"), LOG_LEVEL: "silent",
      }),
      { prisma: db.prisma },
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await server?.close();
    await Promise.all([nats?.dispose(), db?.drop(), fs.rm(home, { recursive: true, force: true })]);
  });

  it("carries an enrolled agent's reports end to end, credentials kept out of the posture report", async () => {
    const res = await fetch(`${server.url}/api/v1/enrollment-tokens`, {
      method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ ttlSeconds: 600 }),
    });
    const { token } = (await res.json()) as { token: string };
    const agentHome = path.join(home, "agent");
    const state = await enroll({ serverUrl: server.url, token, home: agentHome, hostname: "e2e-auth" });
    expect(state.natsUrl).toBe(`nats://127.0.0.1:${nats.port}`); // the server hands out no credentials
    await fs.mkdir(path.join(agentHome, "models"), { recursive: true });
    await fs.copyFile(TINY_MODEL, path.join(agentHome, "models", "tiny.gguf"));
    const config = await loadAgentConfig({ env: { FLEET_NATS_URL: nats.url }, flags: { home: agentHome, heartbeatIntervalSec: 1, runtime: { enabled: false } } as never });
    agent = new AgentService({ config, state, tuning: { natsRetryMs: 100 } });
    await agent.start();

    const model = await waitFor(() => db.prisma.installedModel.findFirst({ where: { deviceId: state.deviceId } }), "the agent's models report");
    expect(model.sha256).toBe(TINY_SHA256);
    const posture = await waitFor(() => db.prisma.postureReport.findFirst({ where: { deviceId: state.deviceId } }), "the posture report");
    expect(JSON.stringify(posture.data)).not.toContain("s3cret");
  });

  it("the server does not start with wrong credentials, and says where it failed without the password", async () => {
    const wrong = nats.url.replace("s3cret", "wrong");
    const err = await createServer(
      parseEnv({ DATABASE_URL: db.url, NATS_URL: wrong, PORT: "0", FLEET_ADMIN_TOKEN: ADMIN, FLEET_SERVER_KEY_FILE: path.join(home, "k2.json"), LOG_LEVEL: "silent" }),
    ).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/cannot connect to NATS/);
    expect(err?.message).not.toContain("wrong");
  });
});

// NATS in operator mode, as `pnpm start` and docker-compose run it: the real agent enrolls with its own nkey, reports
// and reads its commands as its own user, and is cut off the moment it is revoked.
describe("NATS with per-device identity (the real agent)", () => {
  let srv: TestServer;
  let agent: LocalAgent | null = null;

  beforeAll(async () => {
    srv = await startTestServer({}, { natsAuth: "jwt" });
  });
  afterAll(async () => {
    await agent?.dispose();
    await srv?.close();
  });

  it("enrolls with its own NATS user, reports with it, and is disconnected for good when revoked", async () => {
    const res = await srv.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    agent = await startLocalAgent({ serverUrl: srv.url, token: ((await res.json()) as { token: string }).token, hostname: "e2e-identity" });
    const id = agent.state.deviceId;
    // the seed stays on the device (0600 state), the server knows only the public key
    expect(agent.state.natsCreds?.seed).toMatch(/^SU/);
    expect((await fs.stat(path.join(agent.home, "state.json"))).mode & 0o777).toBe(0o600);
    const device = await srv.db.prisma.device.findUniqueOrThrow({ where: { id } });
    expect(device.natsUserKey).toMatch(/^U/);
    expect(JSON.stringify(device, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(agent.state.natsCreds!.seed);

    await waitFor(() => srv.db.prisma.heartbeat.findFirst({ where: { deviceId: id } }), "the agent's heartbeat");
    const posture = await waitFor(() => srv.db.prisma.postureReport.findFirst({ where: { deviceId: id } }), "the posture report");
    expect(JSON.stringify(posture.data)).not.toContain(agent.state.natsCreds!.seed);
    expect(agent.service.status().connected).toBe(true);

    const revoked = await srv.admin(`/api/v1/devices/${id}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    await waitFor(() => !agent!.service.status().connected, "the revoked agent disconnected");
    // and it stays out: its reconnects are refused (no heartbeat stored after the revocation)
    const beats = await srv.db.prisma.heartbeat.count({ where: { deviceId: id } });
    const other = await srv.enrollDevice("still-here");
    const hb = other.report("heartbeat", exampleHeartbeat);
    await other.publish(hb);
    await waitFor(() => srv.db.prisma.processedMessage.findUnique({ where: { msgId: hb.msgId } }), "another device's report after the revocation");
    expect(agent.service.status().connected).toBe(false);
    expect(await srv.db.prisma.heartbeat.count({ where: { deviceId: id } })).toBe(beats);
  });
});
