import "reflect-metadata";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, type TestNatsServer } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../app.js";
import { parseEnv, type ServerConfig } from "../common/env.js";
import { SimDevice } from "./device-sim.js";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export interface TestServer {
  server: FleetServer;
  url: string;
  db: TestDatabase;
  nats: TestNatsServer;
  config: ServerConfig;
  keyDir: string;
  admin: (p: string, init?: RequestInit) => Promise<Response>;
  /** a fresh token + SimDevice.enroll: a device with its own key pair and NATS connection */
  enrollDevice(hostname?: string): Promise<SimDevice>;
  /** the Prometheus text of /metrics */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** A real server on its own database and its own nats-server, on free ports. */
export async function startTestServer(env: Record<string, string> = {}, opts: { natsAuth?: "jwt" | "none" } = {}): Promise<TestServer> {
  const [db, nats, keyDir] = await Promise.all([
    createTestDatabase(),
    startNatsServer({ auth: opts.natsAuth }),
    fs.mkdtemp(path.join(os.tmpdir(), "fleet-server-key-")),
  ]);
  const config = parseEnv({
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    PORT: "0",
    FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
    FLEET_SERVER_KEY_FILE: path.join(keyDir, "server-key.json"),
    FLEET_DATA_DIR: path.join(keyDir, "data"),
    // NATS with decentralized auth (the test default): the server signs every device its own user JWT.
    ...(nats.keysFile ? { FLEET_NATS_KEYS_FILE: nats.keysFile } : {}),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    // tests not about quality approve unmeasured entries; quality tests pass FLEET_QUALITY_GATE: "on"
    FLEET_QUALITY_GATE: "off",
    ...env,
  });
  const server = await createServer(config, { prisma: db.prisma });
  const admin = (p: string, init: RequestInit = {}) =>
    fetch(server.url + p, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) },
    });
  const devices: SimDevice[] = [];
  const enrollDevice = async (hostname = "ws-test") => {
    const res = await admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 600 }) });
    const { token } = (await res.json()) as { token: string };
    const d = await SimDevice.enroll(server.url, nats.url, token, hostname);
    devices.push(d);
    return d;
  };
  return {
    server,
    enrollDevice,
    metrics: async () => (await fetch(`${server.url}/metrics`)).text(),
    url: server.url,
    db,
    nats,
    config,
    keyDir,
    admin,
    close: async () => {
      const t0 = Date.now();
      await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
      const t1 = Date.now();
      await server.close().catch(() => undefined);
      const t2 = Date.now();
      await Promise.all([db.drop(), nats.dispose(), fs.rm(keyDir, { recursive: true, force: true })]);
      if (process.env.TEST_TIMING) console.error("close timing", t1 - t0, t2 - t1, Date.now() - t2);
    },
  };
}
