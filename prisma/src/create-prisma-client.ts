import type pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";
import { pgAdapter } from "./pg-adapter.js";

export interface CreatePrismaClientOptions {
  /** pg.Pool settings (max, idleTimeoutMillis, ...) passed to the driver adapter */
  pool?: pg.PoolConfig;
}

/** A PrismaClient on `url` through the fixed pg driver adapter (the only way Prisma connects here). */
export function createPrismaClient(url: string, options: CreatePrismaClientOptions = {}): PrismaClient {
  return new PrismaClient({ adapter: pgAdapter(url, options.pool) });
}
