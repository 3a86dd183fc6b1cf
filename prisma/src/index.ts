// @fleet/db: the Prisma client for the Fleetwise data model, its migrations and the PostgreSQL plumbing around them.
export * from "./generated/prisma/client.js";
export { createPrismaClient, type CreatePrismaClientOptions } from "./create-prisma-client.js";
export { pgAdapter, migrateAdapter, createPgPool, pgConfigFromUrl, NameAsTextClient, InvalidDatabaseUrlError } from "./pg-adapter.js";
export {
  applyMigrations,
  FailedMigrationBlocksError,
  MigrationFailedError,
  type ApplyMigrationsOptions,
  type ApplyMigrationsResult,
  type MigrationLog,
} from "./migrate.js";
export { MIGRATIONS_DIR, readMigrations, migrationsFingerprint, type MigrationFile } from "./migrations-dir.js";
export { startEmbeddedPostgres, EmbeddedPostgresError, type EmbeddedPostgresOptions, type EmbeddedPostgresHandle } from "./embedded.js";
