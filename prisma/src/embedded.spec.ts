import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedPostgresError, startEmbeddedPostgres } from "./embedded.js";

// Local copy of @fleet/test-utils' freePort: this package does not depend on test-utils.
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function scalar(url: string, sql: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Object.values((await c.query(sql)).rows[0] ?? {})[0];
  } finally {
    await c.end();
  }
}

// The server runs as the `postgres` system user, which must traverse the parent: mkdtemp makes it 0700.
const parent = mkdtempSync(join(tmpdir(), "fleet-embedded-pg-"));
chmodSync(parent, 0o755);
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe("startEmbeddedPostgres", () => {
  it("initialises an empty dataDir, serves queries on 127.0.0.1, stops, and keeps data across restarts", async () => {
    const dataDir = join(parent, "data");
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, port });
    try {
      expect(first.url).toBe(`postgresql://postgres:postgres@127.0.0.1:${port}/postgres`);
      expect(await scalar(first.url, "SHOW server_version_num")).toMatch(/^15\d{4}$/);
      await scalar(first.url, "CREATE TABLE kept (v int)");
      await scalar(first.url, "INSERT INTO kept VALUES (42)");
    } finally {
      await first.stop();
    }
    await expect(scalar(first.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);

    const second = await startEmbeddedPostgres({ dataDir, port });
    try {
      expect(await scalar(second.url, "SELECT v FROM kept")).toBe(42);
    } finally {
      await second.stop();
      await second.stop(); // idempotent
    }
  });

  it("refuses a non-empty directory that is not a PostgreSQL cluster", async () => {
    const dataDir = join(parent, "foreign");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "notes.txt"), "mine");
    await expect(startEmbeddedPostgres({ dataDir, port: await freePort() })).rejects.toThrow(/holds no PostgreSQL cluster/);
  });

  it("reports why postgres did not start when the port is taken", async () => {
    const dataDir = join(parent, "busy");
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      const err = await startEmbeddedPostgres({ dataDir, port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbeddedPostgresError);
      expect((err as Error).message).toMatch(/did not start.*\n[\s\S]*(could not bind|Address already in use|could not create any TCP\/IP sockets)/);
    } finally {
      blocker.close();
    }
  });
});
