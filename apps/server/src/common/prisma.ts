import type { Prisma, PrismaClient } from "@fleet/db";

/** The Prisma client of one server instance; only repositories inject it. */
export type Db = PrismaClient;
/** A client inside an interactive transaction. */
export type Tx = Prisma.TransactionClient;

/** Prisma's unique-constraint violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "P2002";
}
