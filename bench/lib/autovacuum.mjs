// The machine's PostgreSQL may run with autovacuum off (this one's CI configuration does); production does not. A
// benchmark of minutes then measures a database no production has: the Device table's liveness updates leave ~1,700
// dead row versions a second at 50,000 devices, never cleaned (650,000 after a 180 s run, every lookup by id walking
// them). When autovacuum is off, this stands in for it with its own rules and defaults: every autovacuum_naptime, each
// table of the benchmark's database whose dead rows exceed 50 + 20 % of its rows is vacuumed (its rows changed since
// the last analyze over 50 + 10 %: analyzed), throttled as autovacuum is (cost delay 2 ms, limit 200). Its cost shows
// in PostgreSQL's CPU as autovacuum's would.
import pg from "pg";

const num = (v) => Number.parseFloat(String(v));

/** Starts the stand-in when the server's autovacuum is off; returns { enabled, stop(), runs } (runs: tables vacuumed). */
export async function emulateAutovacuum(url, onError = () => {}) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const setting = (name) => client.query(`SELECT setting FROM pg_settings WHERE name = $1`, [name]).then((r) => r.rows[0]?.setting);
  if ((await setting("autovacuum")) === "on") {
    await client.end();
    return { enabled: false, runs: [], stop: async () => {} };
  }
  const naptimeSec = num(await setting("autovacuum_naptime")) || 60;
  const vacThreshold = num(await setting("autovacuum_vacuum_threshold"));
  const vacScale = num(await setting("autovacuum_vacuum_scale_factor"));
  const anThreshold = num(await setting("autovacuum_analyze_threshold"));
  const anScale = num(await setting("autovacuum_analyze_scale_factor"));
  await client.query(`SET vacuum_cost_delay = '2ms'; SET vacuum_cost_limit = 200`);
  const runs = [];
  let stopped = false;
  let pass = Promise.resolve();
  async function once() {
    const { rows } = await client.query(
      `SELECT relname, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead, n_mod_since_analyze::float8 AS modified FROM pg_stat_user_tables`,
    );
    for (const t of rows) {
      if (stopped) return;
      const vacuum = t.dead > vacThreshold + vacScale * t.live;
      const analyze = t.modified > anThreshold + anScale * t.live;
      if (!vacuum && !analyze) continue;
      const t0 = performance.now();
      await client.query(`${vacuum ? "VACUUM (ANALYZE)" : "ANALYZE"} "${t.relname.replace(/"/g, '""')}"`);
      runs.push({ table: t.relname, vacuum, dead: t.dead, ms: Math.round(performance.now() - t0) });
    }
  }
  const timer = setInterval(() => {
    pass = pass.then(once).catch(onError);
  }, naptimeSec * 1000);
  return {
    enabled: true,
    naptimeSec,
    runs,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await pass;
      await client.end().catch(() => undefined);
    },
  };
}
