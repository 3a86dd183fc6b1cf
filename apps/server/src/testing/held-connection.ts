import { createPgPool } from "@fleet/db";

/** One database connection a test holds on its own, e.g. to keep a transaction (and its row locks) open. */
export interface HeldConnection {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  close(): Promise<void>;
}

/** A connection outside the server's pools (createPgPool, as the ingest's own connections are made). */
export async function holdConnection(url: string): Promise<HeldConnection> {
  const pool = createPgPool(url, { max: 1 });
  const client = await pool.connect();
  return {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as R[] }),
    close: async () => {
      client.release();
      await pool.end();
    },
  };
}
