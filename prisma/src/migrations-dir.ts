import { createHash } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** prisma/migrations, found from this file so it works from src/ (tsx, vitest) and dist/ alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

export interface MigrationFile {
  /** directory name, e.g. 20261125120000_init; applied in name order */
  name: string;
  sql: string;
  /** sha256 hex of the file bytes, the checksum `prisma migrate` records and compares */
  checksum: string;
}

/** Every `<dir>/<name>/migration.sql`, sorted by name. */
export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name, "migration.sql"));
      return { name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    });
}

/** A short hash of all migration names and checksums: equal hashes mean equal schemas. */
export function migrationsFingerprint(dir: string = MIGRATIONS_DIR): string {
  const h = createHash("sha256");
  for (const m of readMigrations(dir)) h.update(`${m.name}\0${m.checksum}\n`);
  return h.digest("hex").slice(0, 16);
}
