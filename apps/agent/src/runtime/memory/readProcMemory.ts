import fs from "node:fs";

/** What /proc says about one process's memory (Linux); every field null elsewhere or once it exited. */
export interface ProcMemory {
  rssBytes: number | null;
  /** high-water mark of RSS (VmHWM) since start or since resetPeakRss() */
  peakRssBytes: number | null;
  /** the process's memory in swap (VmSwap) */
  swapBytes: number | null;
  /** major page faults so far (field 12 of /proc/<pid>/stat): pages read from disk, file-backed or swap */
  majorFaults: number | null;
}

export interface VmSwapCounters {
  pswpin: number | null;
  pswpout: number | null;
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function statusKb(status: string | null, key: string): number | null {
  const m = status?.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) * 1024 : null;
}

/** Synchronous on purpose: three small procfs reads, called on the metrics timer and around loads. */
export function readProcMemory(pid: number): ProcMemory {
  const status = read(`/proc/${pid}/status`);
  const stat = read(`/proc/${pid}/stat`);
  // fields after the command name, which may itself hold spaces and parentheses
  const fields = stat ? stat.slice(stat.lastIndexOf(")") + 2).split(" ") : null;
  const majflt = fields ? Number(fields[9]) : NaN; // field 12 overall = index 9 after "pid (comm)"
  return {
    rssBytes: statusKb(status, "VmRSS"),
    peakRssBytes: statusKb(status, "VmHWM"),
    swapBytes: statusKb(status, "VmSwap"),
    majorFaults: Number.isFinite(majflt) ? majflt : null,
  };
}

export function readVmSwapCounters(): VmSwapCounters {
  const vmstat = read("/proc/vmstat");
  const get = (k: string) => {
    const m = vmstat?.match(new RegExp(`^${k} (\\d+)$`, "m"));
    return m ? Number(m[1]) : null;
  };
  return { pswpin: get("pswpin"), pswpout: get("pswpout") };
}

/**
 * Reset the process's RSS high-water mark (write "5" to /proc/<pid>/clear_refs) so the next VmHWM is the peak of
 * this window. False when not permitted (another user's process) or not Linux: the peak is then since start.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
