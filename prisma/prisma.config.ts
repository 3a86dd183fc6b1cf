import { defineConfig } from "prisma/config";
import { migrateAdapter } from "./src/pg-adapter.js"; // ".js" for NodeNext; the Prisma CLI loads the .ts

// Prisma 6.19 with the WASM schema engine behind a driver adapter: no engine binary is downloadable here.
// See /work/shared/NOTES-prisma.md. The adapter is built lazily, so `prisma generate` needs no DATABASE_URL.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  adapter: async () => migrateAdapter(process.env.DATABASE_URL),
});
