import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidDatabaseUrlError, migrateAdapter, pgAdapter, pgConfigFromUrl } from "./pg-adapter.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

describe("pgConfigFromUrl", () => {
  it.each([
    ["postgresql://postgres@127.0.0.1:5432/postgres", { host: "127.0.0.1", port: 5432, user: "postgres", password: undefined, database: "postgres" }],
    ["postgres://u%40x:p%3Ass@db.local/app?schema=fleet", { host: "db.local", port: 5432, user: "u@x", password: "p:ss", database: "app", schema: "fleet" }],
    ["postgresql://me@localhost/app?host=/var/run/postgresql", { host: "/var/run/postgresql", user: "me", database: "app" }],
    ["postgresql://h:6543/app?sslmode=require", { host: "h", port: 6543, database: "app", ssl: { rejectUnauthorized: false } }],
  ])("parses %s", (url, expected) => {
    expect(pgConfigFromUrl(url)).toMatchObject(expected);
  });

  it.each([
    ["not a url", "not a valid URL"],
    ["mysql://root@localhost/db", "must start with postgresql://"],
  ])("rejects %s", (url, reason) => {
    expect(() => pgConfigFromUrl(url)).toThrow(InvalidDatabaseUrlError);
    expect(() => pgConfigFromUrl(url)).toThrow(reason);
  });

  it("migrateAdapter names the missing DATABASE_URL", () => {
    expect(() => migrateAdapter(undefined)).toThrow(/DATABASE_URL is not set/);
  });
});

describe("pgAdapter against PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("runs a script as written: $$ bodies and literals containing ';'", async () => {
    const adapter = await pgAdapter(db.url).connect();
    try {
      await adapter.executeScript(
        `CREATE TABLE notes (body TEXT);
         INSERT INTO notes VALUES ('a;b');
         CREATE FUNCTION three() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 3; END; $$;`,
      );
      const res = await adapter.queryRaw({ sql: "SELECT body, three() AS n FROM notes", args: [], argTypes: [] });
      expect(res.rows).toEqual([["a;b", 3]]);
      // A failing script surfaces as adapter-pg's mapped error, which the schema engine understands.
      await expect(adapter.executeScript("SELECT * FROM missing_table")).rejects.toMatchObject({
        name: "DriverAdapterError",
        cause: { kind: "TableDoesNotExist", table: "missing_table" },
      });
    } finally {
      await adapter.dispose();
    }
  });

  it("reads name and \"char\" columns through $queryRaw (stock adapter-pg cannot deserialize them)", async () => {
    const rows = await db.prisma.$queryRaw<{ datname: string; relkind: string }[]>`
      SELECT d.datname, c.relkind FROM pg_database d, pg_class c
      WHERE d.datname = current_database() AND c.relname = 'Device'`;
    expect(rows).toEqual([{ datname: new URL(db.url).pathname.slice(1), relkind: "r" }]);
  });
});
