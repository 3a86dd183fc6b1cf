import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPrismaClient } from "./create-prisma-client.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { applyMigrations } from "./migrate.js";
import { migrationsFingerprint } from "./migrations-dir.js";
import { pgConfigFromUrl } from "./pg-adapter.js";

/** Default admin URL for test databases; override with TEST_DATABASE_URL. */
export const DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

// Held on the admin database while the template is built, so parallel test files and processes build it once.
const TEMPLATE_LOCK_KEY = 72707370;

export interface TestDatabase {
  /** URL of this test's own database */
  url: string;
  prisma: PrismaClient;
  /** disconnects the client and drops the database (WITH (FORCE)) */
  drop(): Promise<void>;
}

/** URL of database `name` on the same server and credentials as `url`. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const { schema: _s, ...config } = pgConfigFromUrl(adminUrl);
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const templates = new Map<string, Promise<string>>();

/** Name of the migrated template database for the current migrations, creating it once per server. */
export function ensureTemplateDatabase(adminUrl: string = adminUrlFromEnv()): Promise<string> {
  let p = templates.get(adminUrl);
  if (!p) {
    p = buildTemplate(adminUrl);
    // A failed attempt must not poison later calls in this process.
    p.catch(() => templates.delete(adminUrl));
    templates.set(adminUrl, p);
  }
  return p;
}

async function buildTemplate(adminUrl: string): Promise<string> {
  // Named after the migrations, so a changed migration gets a new template instead of a stale one.
  const name = `fleet_tpl_${migrationsFingerprint()}`;
  await withAdmin(adminUrl, async (c) => {
    await c.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (rowCount) return;
      // Build under a temporary name and rename: a crash mid-build never leaves a half-migrated template behind.
      const building = `${name}_b${randomBytes(4).toString("hex")}`;
      await c.query(`CREATE DATABASE "${building}"`);
      try {
        await applyMigrations(databaseUrl(adminUrl, building));
        // No connections allowed: CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
        await c.query(`ALTER DATABASE "${building}" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`);
        await c.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
      } catch (e) {
        await c.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`).catch(() => {});
        throw e;
      }
    } finally {
      await c.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

function adminUrlFromEnv(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
}

/**
 * A fresh, fully migrated database for one test file (a clone of the template: tens of milliseconds).
 * Admin URL from TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = adminUrlFromEnv();
  const template = await ensureTemplateDatabase(adminUrl);
  const name = `t_${randomBytes(8).toString("hex")}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = databaseUrl(adminUrl, name);
  const prisma = createPrismaClient(url);
  let dropped = false;
  return {
    url,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect();
      await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
