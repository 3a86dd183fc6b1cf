import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
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

/** A process's group id (the 5th field of /proc/<pid>/stat, after the parenthesised command name). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
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
      // a process group of its own: a terminal's Ctrl-C reaches the owner (which stops it last), not postgres
      const postmaster = Number(readFileSync(join(first.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      expect(processGroup(postmaster)).toBe(postmaster);
      expect(processGroup(process.pid)).not.toBe(postmaster);
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

  it("fails with one clear sentence, and no hang, when the binaries cannot be run", async () => {
    const emptyBin = join(parent, "no-binaries");
    mkdirSync(emptyBin);
    const err = await startEmbeddedPostgres({ dataDir: join(parent, "unused"), port: await freePort(), binDir: emptyBin }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddedPostgresError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot run ${join(emptyBin, "postgres")}.*: .*ENOENT`));
  });

  // As root, PostgreSQL runs as the `postgres` user, which cannot enter a 0700 directory owned by root (a clone under
  // /root, a mkdtemp dir): the cluster is relocated under /var/tmp instead of failing with a raw spawn EACCES.
  it.runIf(userInfo().uid === 0)("as root, relocates a data dir the postgres user cannot reach", async () => {
    const privateParent = mkdtempSync(join(tmpdir(), "fleet-embedded-private-"));
    chmodSync(privateParent, 0o700);
    const dataDir = join(privateParent, "pg");
    const port = await freePort();
    let relocated: string | undefined;
    try {
      const db = await startEmbeddedPostgres({ dataDir, port });
      relocated = db.dataDir;
      try {
        expect(db.dataDir).toMatch(/^\/var\/tmp\/fleetwise-[0-9a-f]{12}\/pg$/);
        expect(await scalar(db.url, "SELECT 1")).toBe(1);
      } finally {
        await db.stop();
      }
      // the same dataDir maps to the same place: the data survives a restart
      const again = await startEmbeddedPostgres({ dataDir, port });
      try {
        expect(again.dataDir).toBe(relocated);
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(privateParent, { recursive: true, force: true });
      if (relocated) rmSync(join(relocated, ".."), { recursive: true, force: true });
    }
  });
});
