// Lost and duplicated, counted from the database against what the simulator sent (and JetStream acked).
import pg from "pg";

/**
 * lost: acked msgIds with no ProcessedMessage row; duplicated: extra rows for one msgId in ProcessedMessage and in
 * every per-kind table keyed by msgId alone (one row per report; tables with several rows per report, unique on
 * (msgId, idx), are skipped), plus rows whose msgId the simulator never sent (a publish without a PubAck
 * may or may not be stored: `uncertainIds`, neither lost nor foreign). The unique indexes make the
 * per-table counts 0 unless one is dropped: checked, not assumed.
 */
export async function account(url, sentIds, uncertainIds = new Set()) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT "msgId" FROM "ProcessedMessage"`);
    const stored = new Set(rows.map((r) => r.msgId));
    let lost = 0;
    for (const id of sentIds) if (!stored.has(id)) lost++;
    let foreign = 0;
    for (const id of stored) if (!sentIds.has(id) && !uncertainIds.has(id)) foreign++;
    const { rows: tables } = await client.query(
      `SELECT DISTINCT t.relname AS table_name FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
       WHERE i.indisunique AND i.indnatts = 1 AND a.attname = 'msgId' AND t.relnamespace = current_schema()::regnamespace ORDER BY 1`,
    );
    const perTable = {};
    let repeated = 0;
    for (const { table_name: t } of tables) {
      const [{ n }] = (await client.query(`SELECT (count(*) - count(DISTINCT "msgId"))::int AS n FROM "${t}"`)).rows;
      perTable[t] = n;
      repeated += n;
    }
    return { stored: stored.size, lost, duplicated: repeated + foreign, tablesChecked: tables.map((t) => t.table_name) };
  } finally {
    await client.end();
  }
}
