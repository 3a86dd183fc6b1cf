import { applyMigrations } from "./migrate.js";

// `pnpm db:migrate`: apply pending migrations to DATABASE_URL. One JSON line per event, like the apps' pino logs.
const line = (level: "info" | "warn" | "error", msg: string, data: Record<string, unknown> = {}) =>
  (level === "error" ? process.stderr : process.stdout).write(JSON.stringify({ level, time: Date.now(), msg, ...data }) + "\n");

const url = process.env.DATABASE_URL;
if (!url) {
  line("error", "DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres)");
  process.exit(1);
}
try {
  const started = Date.now();
  const { applied } = await applyMigrations(url, { log: (msg, data) => line(msg.startsWith("migration applied") ? "info" : "warn", msg, data) });
  line("info", applied.length ? `applied ${applied.length} migration(s)` : "database is up to date", { applied, ms: Date.now() - started });
} catch (err) {
  line("error", (err as Error).message, { err: (err as Error).name });
  process.exit(1);
}
