// CPU time of the services a benchmark's server leans on: the PostgreSQL backends serving its database (the cluster is
// shared with other work, so only this database's connections count; the cluster's own writer processes do not) and
// its private nats-server (found by its port in /proc).
import fs from "node:fs";
import { procStats } from "./procStats.mjs";

function natsPid(port) {
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("nats-server") && args[args.indexOf("-p") + 1] === String(port)) return Number(pid);
    } catch {
      // a process that ended while /proc was read
    }
  }
  return null;
}

const cpuOf = (pid) => {
  try {
    return procStats(pid).cpuMs;
  } catch {
    return null; // ended
  }
};

/**
 * A snapshot: `{ postgres: ms by backend pid, nats: ms }`. `query(sql)` runs SQL on the benchmark's database and
 * resolves to its rows; cpuBetween(a, b) turns two snapshots into ms (a backend that started in between counts from 0).
 */
export async function serviceCpu(query, natsPort) {
  const rows = await query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  const postgres = new Map();
  for (const { pid } of rows) {
    const ms = cpuOf(Number(pid));
    if (ms !== null) postgres.set(Number(pid), ms);
  }
  const pid = natsPid(natsPort);
  return { postgres, nats: pid === null ? null : cpuOf(pid) };
}

export function cpuBetween(a, b) {
  let postgres = 0;
  for (const [pid, ms] of b.postgres) postgres += ms - (a.postgres.get(pid) ?? 0);
  return { postgresMs: postgres, natsMs: a.nats === null || b.nats === null ? null : b.nats - a.nats };
}
