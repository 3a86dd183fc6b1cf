import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, FailedMigrationBlocksError, MigrationFailedError } from "./migrate.js";
import { MIGRATIONS_DIR, readMigrations } from "./migrations-dir.js";
import { DEFAULT_TEST_DATABASE_URL, databaseUrl } from "./testing.js";

const adminUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
const created: string[] = [];

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** An empty database (not from the template): what a first deployment meets. */
async function emptyDatabase(): Promise<string> {
  const name = `m_${randomBytes(6).toString("hex")}`;
  await query(adminUrl, `CREATE DATABASE "${name}"`);
  created.push(name);
  return databaseUrl(adminUrl, name);
}

afterAll(async () => {
  for (const name of created) await query(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

describe("applyMigrations", () => {
  it("applies every migration to a fresh database, records Prisma-compatible rows, and is idempotent", async () => {
    const url = await emptyDatabase();
    const files = readMigrations();
    expect(files.length).toBeGreaterThan(0);
    const logs: string[] = [];

    const first = await applyMigrations(url, { log: (m) => logs.push(m) });
    expect(first.applied).toEqual(files.map((f) => f.name));
    expect(logs.filter((m) => m === "migration applied")).toHaveLength(files.length);

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const r of rows) {
      const bytes = readFileSync(join(MIGRATIONS_DIR, r.migration_name, "migration.sql"));
      expect(r.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.applied_steps_count).toBe(1);
    }
    const tables = await query<{ table_name: string }>(url, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["Device", "EnrollmentToken", "Heartbeat", "AuditLog"]));

    const second = await applyMigrations(url);
    expect(second.applied).toEqual([]);
    const count = await query<{ n: string }>(url, `SELECT count(*) AS n FROM "_prisma_migrations"`);
    expect(Number(count[0]!.n)).toBe(files.length);
  });

  it("runs concurrent callers one at a time under the advisory lock", async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts).toEqual([0, 0, readMigrations().length]);
  });

  it("refuses to run while a failed migration row is unresolved", async () => {
    const url = await emptyDatabase();
    await applyMigrations(url);
    // What `prisma migrate deploy` leaves after a failure: started, never finished, not rolled back.
    await query(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES (gen_random_uuid(), $1, '20990101000000_broken', now(), 0)`,
      ["0".repeat(64)],
    );
    const err = await applyMigrations(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedMigrationBlocksError);
    expect((err as FailedMigrationBlocksError).migrationNames).toEqual(["20990101000000_broken"]);
    expect((err as Error).message).toContain("prisma migrate resolve");

    // Once resolved as rolled back, migrations run again.
    await query(url, `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '20990101000000_broken'`);
    await expect(applyMigrations(url)).resolves.toEqual({ applied: [] });
  });

  it("rolls a failing migration back completely, records the attempt, and keeps earlier ones", async () => {
    const url = await emptyDatabase();
    const dir = mkdtempSync(join(tmpdir(), "fleet-migrations-"));
    try {
      mkdirSync(join(dir, "20000101000000_ok"));
      // $$ bodies and a literal with ";" must survive: the file runs as one script, not split on ";".
      writeFileSync(
        join(dir, "20000101000000_ok", "migration.sql"),
        `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);\nINSERT INTO kv VALUES ('a;b', 'x');\n` +
          `CREATE FUNCTION two() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 2; END; $$;\n`,
      );
      mkdirSync(join(dir, "20000102000000_bad"));
      writeFileSync(
        join(dir, "20000102000000_bad", "migration.sql"),
        `CREATE TABLE half_done (id INT);\nINSERT INTO kv VALUES ('c', 'y');\nSELECT * FROM no_such_table;\n`,
      );

      const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationFailedError);
      expect((err as MigrationFailedError).migrationName).toBe("20000102000000_bad");
      expect((err as Error).message).toContain("no_such_table");

      expect(await query(url, `SELECT k FROM kv ORDER BY k`)).toEqual([{ k: "a;b" }]);
      expect(await query(url, `SELECT two() AS n`)).toEqual([{ n: 2 }]);
      expect(await query(url, `SELECT to_regclass('half_done') AS t`)).toEqual([{ t: null }]);
      const rows = await query<{ migration_name: string; done: boolean; rolled_back: boolean; logs: string | null }>(
        url,
        `SELECT migration_name, finished_at IS NOT NULL AS done, rolled_back_at IS NOT NULL AS rolled_back, logs
         FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows).toEqual([
        { migration_name: "20000101000000_ok", done: true, rolled_back: false, logs: null },
        { migration_name: "20000102000000_bad", done: false, rolled_back: true, logs: expect.stringContaining("no_such_table") },
      ]);

      // The fixed file applies on the next run; the rolled-back attempt does not block it.
      writeFileSync(join(dir, "20000102000000_bad", "migration.sql"), `CREATE TABLE half_done (id INT);\n`);
      await expect(applyMigrations(url, { migrationsDir: dir })).resolves.toEqual({ applied: ["20000102000000_bad"] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("warns about an applied migration whose file changed since", async () => {
    const url = await emptyDatabase();
    const dir = mkdtempSync(join(tmpdir(), "fleet-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      await applyMigrations(url, { migrationsDir: dir });
      const first = readMigrations(dir)[0]!;
      writeFileSync(join(dir, first.name, "migration.sql"), first.sql + "\n-- edited\n");
      const logs: { msg: string; data?: Record<string, unknown> }[] = [];
      const res = await applyMigrations(url, { migrationsDir: dir, log: (msg, data) => logs.push({ msg, data }) });
      expect(res.applied).toEqual([]);
      expect(logs).toEqual([{ msg: "applied migration was modified after it was applied", data: { migration: first.name } }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
