import "reflect-metadata";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@fleet/db/testing";
import { startNatsServer, type TestNatsServer } from "@fleet/test-utils";
import { createServer, type FleetServer } from "../app.js";
import { parseEnv, type ServerConfig } from "../common/env.js";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export interface TestServer {
  server: FleetServer;
  url: string;
  db: TestDatabase;
  nats: TestNatsServer;
  config: ServerConfig;
  keyDir: string;
  admin: (p: string, init?: RequestInit) => Promise<Response>;
  close(): Promise<void>;
}

/** A real server on its own database and its own nats-server, on free ports. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const [db, nats, keyDir] = await Promise.all([
    createTestDatabase(),
    startNatsServer(),
    fs.mkdtemp(path.join(os.tmpdir(), "fleet-server-key-")),
  ]);
  const config = parseEnv({
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    PORT: "0",
    FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
    FLEET_SERVER_KEY_FILE: path.join(keyDir, "server-key.json"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...env,
  });
  const server = await createServer(config, { prisma: db.prisma });
  const admin = (p: string, init: RequestInit = {}) =>
    fetch(server.url + p, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) },
    });
  return {
    server,
    url: server.url,
    db,
    nats,
    config,
    keyDir,
    admin,
    close: async () => {
      await server.close().catch(() => undefined);
      await Promise.all([db.drop(), nats.dispose(), fs.rm(keyDir, { recursive: true, force: true })]);
    },
  };
}
