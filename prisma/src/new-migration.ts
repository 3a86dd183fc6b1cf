import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// `pnpm db:new <name>`: diff migrations/ against schema.prisma and write the difference as a new migration.
// Needs DATABASE_URL on a PG <= 17 server where the user may CREATE DATABASE (Prisma builds a temporary shadow db there).
const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const fail = (msg: string): never => {
  process.stderr.write(`db:new: ${msg}\n`);
  process.exit(1);
};

const name = process.argv[2];
if (!name || !/^[a-z0-9][a-z0-9_]{0,60}$/.test(name)) fail("usage: db:new <name>  (lowercase letters, digits, _; e.g. add_rollouts)");
if (!process.env.DATABASE_URL) fail("DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres)");

const res = spawnSync(
  join(pkgRoot, "node_modules/.bin/prisma"),
  ["migrate", "diff", "--from-migrations", "migrations", "--to-schema-datamodel", "schema.prisma", "--script", "--exit-code"],
  { cwd: pkgRoot, encoding: "utf8", env: process.env, maxBuffer: 64 * 1024 * 1024 },
);
// --exit-code: 0 = no difference, 2 = difference (the script is on stdout), 1 = error.
if (res.status === 0) {
  process.stdout.write("db:new: schema.prisma matches the migrations; nothing to write\n");
  process.exit(0);
}
if (res.status !== 2) fail(`prisma migrate diff failed (exit ${res.status ?? res.signal}):\n${res.stderr}${res.stdout}`);

// Create the directory only now: an empty directory under migrations/ would itself count as a migration (P3015).
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const dir = join(pkgRoot, "migrations", `${stamp}_${name}`);
mkdirSync(dir);
writeFileSync(join(dir, "migration.sql"), res.stdout);
process.stdout.write(`db:new: wrote ${join("migrations", `${stamp}_${name}`, "migration.sql")}\n`);
