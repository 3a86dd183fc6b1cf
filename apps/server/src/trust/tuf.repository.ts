import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db, Tx } from "../common/prisma.js";
import type { SignedMetadata } from "./tuf-metadata.js";

/** pg advisory lock id of the TUF repository: one writer at a time across replicas and the CLI. */
const TUF_LOCK_ID = 0x7475_6631n; // "tuf1"

export interface TufRow {
  role: string;
  version: number;
  body: string;
  expiresAt: Date;
}

export interface TufTargetEntry {
  targetPath: string;
  sha256: string;
  sizeBytes: bigint;
  facts: unknown;
}

/** What a locked TUF writer may do, bound to its transaction. */
export interface TufWriter {
  latest(role: string): Promise<TufRow | null>;
  insert(rows: SignedMetadata[]): Promise<void>;
  /** entries that are TUF targets: approved and deprecated (draft and revoked are not) */
  targetEntries(): Promise<TufTargetEntry[]>;
}

@Injectable()
export class TufRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  /** Run fn holding the TUF lock (waits for it). Everything fn inserts commits together. */
  withLock<T>(fn: (w: TufWriter) => Promise<T>): Promise<T> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${TUF_LOCK_ID})`;
        return fn(this.writer(tx));
      },
      { timeout: 60_000, maxWait: 30_000 },
    );
  }

  /** Run fn only if nobody else holds the TUF lock (periodic jobs: another replica is doing it). */
  tryWithLock<T>(fn: (w: TufWriter) => Promise<T>): Promise<{ locked: false } | { locked: true; value: T }> {
    return this.db.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${TUF_LOCK_ID}) AS ok`;
        if (!row?.ok) return { locked: false as const };
        return { locked: true as const, value: await fn(this.writer(tx)) };
      },
      { timeout: 60_000, maxWait: 30_000 },
    );
  }

  private writer(tx: Tx): TufWriter {
    return {
      latest: (role) => this.latestIn(tx, role),
      insert: async (rows) => {
        await tx.tufMetadata.createMany({ data: rows.map((r) => ({ role: r.role, version: r.version, body: r.body, expiresAt: r.expiresAt })) });
      },
      targetEntries: () =>
        tx.catalogEntry.findMany({
          where: { state: { in: ["approved", "deprecated"] } },
          select: { targetPath: true, sha256: true, sizeBytes: true, facts: true },
          orderBy: { targetPath: "asc" },
        }),
    };
  }

  private latestIn(db: Db | Tx, role: string): Promise<TufRow | null> {
    return db.tufMetadata.findFirst({ where: { role }, orderBy: { version: "desc" }, select: { role: true, version: true, body: true, expiresAt: true } });
  }

  latest(role: string): Promise<TufRow | null> {
    return this.latestIn(this.db, role);
  }

  /** One version of a role (roots are fetched by version). */
  version(role: string, version: number): Promise<TufRow | null> {
    return this.db.tufMetadata.findUnique({ where: { role_version: { role, version } }, select: { role: true, version: true, body: true, expiresAt: true } });
  }
}
