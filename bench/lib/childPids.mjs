import fs from "node:fs";

/** Direct children of a live process, from /proc/<pid>/task/<tid>/children (every thread may have forked). */
export function childPids(pid) {
  const out = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** The command line of a live process, arguments joined by spaces. */
export const cmdline = (pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
