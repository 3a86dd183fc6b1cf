// What PostgreSQL's backends on a benchmark's database are doing, sampled from pg_stat_activity every `everyMs`: per
// second of the run, how many samples saw each (wait event, statement) pair active. A stall in ingest then shows
// what held the database in those seconds (a lock wait, I/O, a long aggregate) rather than only that commits slowed.
import pg from "pg";

const ACTIVE = `
  SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') AS wait, regexp_replace(left(query, 160), '\\s+', ' ', 'g') AS q
  FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle' AND backend_type = 'client backend'`;

/**
 * Starts sampling; returns { stop(): Promise<Map<second, Map<"wait | statement", samples>>>, samples } where seconds
 * count from `t0` (performance.now() of the window's opening).
 */
export async function samplePgActivity(url, everyMs, t0, onError = () => {}) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const bySecond = new Map();
  let stopped = false;
  let samples = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        const { rows } = await client.query(ACTIVE);
        samples++;
        const sec = Math.floor((started - t0) / 1000);
        const m = bySecond.get(sec) ?? new Map();
        bySecond.set(sec, m);
        for (const r of rows) {
          const key = `${r.wait} | ${r.q}`;
          m.set(key, (m.get(key) ?? 0) + 1);
        }
      } catch (err) {
        onError(err);
        return;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - started))));
    }
  })();
  return {
    get samples() {
      return samples;
    },
    stop: async () => {
      stopped = true;
      await loop;
      await client.end().catch(() => undefined);
      return bySecond;
    },
  };
}

/** The `top` busiest pairs of one second's samples, as "n× wait | statement" lines. */
export function topActivity(second, top = 6) {
  return [...(second ?? new Map()).entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, n]) => `${n}× ${k}`);
}
