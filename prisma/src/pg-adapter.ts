import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

/** Thrown when a database URL cannot be turned into a pg connection config. */
export class InvalidDatabaseUrlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidDatabaseUrlError";
  }
}

// adapter-pg 6.19 maps neither `name` (OID 19) nor `"char"` (OID 18); the schema engine and $queryRaw over
// pg_catalog hit both ("Column type 'name' could not be deserialized"). Both are text on the wire, so relabel them.
const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

type FieldsHolder = { fields?: { dataTypeID: number }[] };

function relabel(result: unknown): void {
  // A multi-statement simple query returns one result per statement.
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as FieldsHolder | null)?.fields ?? []) {
      if (f.dataTypeID === NAME_OID || f.dataTypeID === CHAR_OID) f.dataTypeID = TEXT_OID;
    }
  }
}

/** pg.Client that reports `name` and `"char"` columns as text, in both the callback and the promise forms. */
export class NameAsTextClient extends pg.Client {
  // pg.Client.query has many overloads; we only intercept the result, so the loose signature is deliberate.
  override query(...args: unknown[]): any {
    const cbIndex = args.findIndex((a) => typeof a === "function");
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as (err: Error | null, res?: unknown) => void;
      args[cbIndex] = (err: Error | null, res?: unknown) => {
        if (!err) relabel(res);
        cb(err, res);
      };
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    // A submittable (e.g. a cursor) has its own event API; leave it alone.
    const first = args[0] as { submit?: unknown } | undefined;
    const ret = (super.query as (...a: unknown[]) => unknown)(...args);
    if (first && typeof first.submit === "function") return ret;
    return (ret as Promise<unknown>).then((res) => {
      relabel(res);
      return res;
    });
  }
}

/** Parses a postgres:// URL into a plain pg config: a `connectionString` would override `database` for the shadow db. */
export function pgConfigFromUrl(url: string): pg.ClientConfig & { schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new InvalidDatabaseUrlError("database URL is not a valid URL", { cause });
  }
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
    throw new InvalidDatabaseUrlError(`database URL must start with postgresql://, got ${u.protocol}//`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const sslmode = u.searchParams.get("sslmode");
  return {
    // ?host=/var/run/postgresql selects a unix socket, as libpq does.
    host: u.searchParams.get("host") ?? (u.hostname ? decodeURIComponent(u.hostname) : "127.0.0.1"),
    port: u.port ? Number(u.port) : 5432,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: database || undefined,
    ssl: sslmode === "require" || sslmode === "no-verify" ? { rejectUnauthorized: false } : sslmode === "verify-full" ? true : undefined,
    application_name: u.searchParams.get("application_name") ?? undefined,
    schema: u.searchParams.get("schema") ?? undefined,
  };
}

interface ScriptAdapter {
  executeScript(script: string): Promise<void>;
  underlyingDriver(): pg.Pool;
}

// adapter-pg splits scripts on every ";", which breaks $$ bodies and literals such as 'a;b'.
// Sending the whole script as one simple-protocol query is what psql does.
function patchExecuteScript<T extends ScriptAdapter>(adapter: T): T {
  // onError is protected in the typings; it maps a pg error to the DriverAdapterError the engine understands.
  const onError = (adapter as unknown as { onError(e: unknown): never }).onError.bind(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (e) {
      onError(e);
    }
  };
  return adapter;
}

type TxQuery = { sql: string };
interface TxAdapter {
  startTransaction(isolationLevel?: never): Promise<{ executeRaw(q: TxQuery): Promise<number>; commit(): Promise<void>; rollback(): Promise<void> }>;
}
type BusyClient = pg.PoolClient & { _activeQuery?: unknown; _queryQueue?: unknown[] };

/**
 * Prisma 6.19's transaction manager sends COMMIT/ROLLBACK with tx.executeRaw and only then calls tx.commit() or
 * tx.rollback(), which release the pg connection: when that statement fails (a restarted database) the connection is
 * never released, and pool.end() ($disconnect) waits for it forever. A transaction closed by its timeout sends ROLLBACK
 * while its statement still runs, and the rest of that query's statements follow it on the same connection, which
 * went back to the pool busy (pg: "client.query() when the client is already executing a query"). So: a failed
 * COMMIT/ROLLBACK releases the connection with its error, and a connection still busy at the end is dropped, not reused.
 */
function patchTransactions<T extends TxAdapter>(adapter: T): T {
  const start = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel?: never) => {
    const tx = await start(isolationLevel);
    const inner = tx as unknown as { client: BusyClient; cleanup?: () => void };
    const client = inner.client;
    let released = false;
    const release = (err?: unknown) => {
      if (released) return;
      released = true;
      inner.cleanup?.();
      const busy = client._activeQuery != null || (client._queryQueue?.length ?? 0) > 0;
      client.release(err instanceof Error ? err : busy ? new Error("connection still busy when its transaction ended") : undefined);
    };
    const executeRaw = tx.executeRaw.bind(tx);
    tx.executeRaw = async (q: TxQuery) => {
      try {
        return await executeRaw(q);
      } catch (err) {
        if (/^\s*(COMMIT|ROLLBACK)\s*;?\s*$/i.test(q.sql)) release(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    };
    tx.commit = async () => release();
    tx.rollback = async () => release();
    return tx;
  };
  return adapter;
}

/** Prisma driver adapter factory for `url`, with the `name`-column, executeScript and transaction-release fixes. */
export function pgAdapter(url: string, poolConfig: pg.PoolConfig = {}): PrismaPg {
  const { schema, ...config } = pgConfigFromUrl(url);
  const factory = new PrismaPg({ ...config, ...poolConfig, Client: NameAsTextClient }, schema ? { schema } : undefined);
  const connect = factory.connect.bind(factory);
  const connectToShadowDb = factory.connectToShadowDb.bind(factory);
  factory.connect = async () => patchTransactions(patchExecuteScript(await connect()) as unknown as TxAdapter) as unknown as Awaited<ReturnType<typeof connect>>;
  factory.connectToShadowDb = async () => patchTransactions(patchExecuteScript(await connectToShadowDb()) as unknown as TxAdapter) as unknown as Awaited<ReturnType<typeof connectToShadowDb>>;
  return factory;
}

/**
 * A plain pg.Pool on `url` (same config parsing and `name`-as-text client), for the few hot paths that send raw
 * SQL many times a second without Prisma's per-statement overhead (the server's report ingest).
 */
export function createPgPool(url: string, poolConfig: pg.PoolConfig = {}): pg.Pool {
  const { schema, ...config } = pgConfigFromUrl(url);
  return new pg.Pool({ ...config, ...(schema ? { options: `-c search_path="${schema.replace(/"/g, '""')}"` } : {}), ...poolConfig, Client: NameAsTextClient });
}

/** The adapter for Prisma CLI commands: idle connections close after 100 ms, or every command waits 10 s to exit. */
export function migrateAdapter(url: string | undefined): PrismaPg {
  if (!url) throw new InvalidDatabaseUrlError("DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres)");
  return pgAdapter(url, { idleTimeoutMillis: 100 });
}
