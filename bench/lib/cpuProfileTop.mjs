// The functions that used the most CPU in a .cpuprofile (self time), for a benchmark's progress output.
import fs from "node:fs";

/** [{ fn, where, ms, pct }] of the `n` largest self times; idle and program time are left out of the ranking. */
export function cpuProfileTop(file, n = 12) {
  const p = JSON.parse(fs.readFileSync(file, "utf8"));
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map();
  let busy = 0;
  for (const node of p.nodes) {
    const us = dt.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (!us || functionName === "(idle)") continue;
    busy += us;
    // node_modules/.pnpm/<pkg@ver>/node_modules/<pkg>/x.js -> <pkg@ver>/x.js; our files relative to the repository
    const where = url.replace(/.*node_modules\/\.pnpm\/([^/]+)\/node_modules\/(?:@[^/]+\/)?[^/]+\//, "$1/").replace(/^file:\/\/.*?\/(apps|packages|prisma)\//, "$1/");
    const key = `${functionName || "(anonymous)"}\u0000${where ? `${where}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => {
      const [fn, where] = k.split("\u0000");
      return { fn, where, ms: Math.round(us / 1000), pct: Math.round((us / busy) * 1000) / 10 };
    });
}
