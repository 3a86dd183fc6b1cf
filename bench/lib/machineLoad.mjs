// What else the machine was doing while a benchmark ran: load averages and the processes that used the CPU
// over a short sample (from /proc). Printed before and after every ratio benchmark: this machine is shared.
import fs from "node:fs";
import os from "node:os";

const CLK_TCK = 100;

function cpuTicks() {
  const out = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(d), { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** loadavg, cores, and processes above `minPct` % of one core over `sampleMs` (this process excluded). */
export async function machineLoad({ sampleMs = 1000, minPct = 5 } = {}) {
  const a = cpuTicks();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = cpuTicks();
  const sec = (performance.now() - t0) / 1000;
  const busy = [];
  for (const [pid, v] of b) {
    const before = a.get(pid);
    if (!before || pid === process.pid) continue;
    const pct = ((v.ticks - before.ticks) / CLK_TCK / sec) * 100;
    if (pct >= minPct) busy.push({ pid, comm: v.comm, cpuPct: Math.round(pct) });
  }
  busy.sort((x, y) => y.cpuPct - x.cpuPct);
  const [l1, l5, l15] = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return { at: new Date().toISOString(), loadavg: [l1, l5, l15], cores: os.availableParallelism(), busyProcesses: busy.slice(0, 8), busyCpuPct: busy.reduce((s, p) => s + p.cpuPct, 0) };
}

export const describeLoad = (l) =>
  `load ${l.loadavg.join(" / ")} on ${l.cores} cores; busy: ${l.busyProcesses.map((p) => `${p.comm}(${p.pid}) ${p.cpuPct}%`).join(", ") || "none"}`;
