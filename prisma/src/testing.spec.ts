import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DeviceState } from "./generated/prisma/client.js";
import { migrationsFingerprint, readMigrations } from "./migrations-dir.js";
import { createTestDatabase, DEFAULT_TEST_DATABASE_URL, type TestDatabase } from "./testing.js";

const adminUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return ((await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount ?? 0) > 0;
  } finally {
    await c.end();
  }
}

const newDevice = (db: TestDatabase, id: string) =>
  db.prisma.device.create({ data: { id, hostname: `${id}.lan`, publicKeyJwk: { kty: "OKP", crv: "Ed25519", x: id }, publicKeyThumbprint: `tp-${id}` } });

describe("createTestDatabase", () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  it("gives each caller its own migrated database, created in parallel from one template", async () => {
    dbs.push(...(await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()])));
    const [a, b, c] = dbs as [TestDatabase, TestDatabase, TestDatabase];
    expect(new Set(dbs.map((d) => d.url)).size).toBe(3);
    expect(await databaseExists(`fleet_tpl_${migrationsFingerprint()}`)).toBe(true);

    // Migrated: the clone carries the template's _prisma_migrations rows.
    const applied = await a.prisma.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`;
    expect(applied.map((r) => r.migration_name)).toEqual(readMigrations().map((m) => m.name));

    // Isolated: a row in one is invisible in the others, and the same unique key is free there.
    const dev = await newDevice(a, "dev-a");
    expect(dev.state).toBe(DeviceState.active);
    expect(dev.agentVersion).toBeNull();
    expect(await b.prisma.device.count()).toBe(0);
    await expect(newDevice(c, "dev-a")).resolves.toMatchObject({ id: "dev-a" });
    await expect(newDevice(a, "dev-a")).rejects.toMatchObject({ code: "P2002" });
  });

  it("drop() disconnects and removes the database, even with other sessions open", async () => {
    const db = await createTestDatabase();
    const name = new URL(db.url).pathname.slice(1);
    expect(name).toMatch(/^t_[0-9a-f]{16}$/);
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    other.on("error", () => {}); // the forced drop terminates this session
    await newDevice(db, "dev-x");
    await db.drop();
    expect(await databaseExists(name)).toBe(false);
    await db.drop(); // idempotent
    await other.end().catch(() => {});
  });
});
