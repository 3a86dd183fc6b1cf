import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, waitFor, type TestNatsServer } from "@fleet/test-utils";
import { AgentService, enroll, loadAgentConfig } from "@fleet/agent";
import { createServer, parseEnv, type FleetServer } from "@fleet/server";
import { TINY_MODEL, TINY_SHA256 } from "./support/localAgent.js";

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
