import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import type { ResourcePolicy } from "./ZResourcesConfig.js";

export interface PriorityApplied {
  nice: number | null;
  ionice: string | null;
  /** why something was not applied */
  problems: string[];
}

let ioniceAvailable: boolean | null = null;
/** `ionice` (util-linux) is there on Linux; elsewhere only nice applies. */
export function hasIonice(): boolean {
  ioniceAvailable ??= process.platform === "linux" && ["/usr/bin/ionice", "/bin/ionice"].some((p) => fs.existsSync(p));
  return ioniceAvailable;
}

function tasksOf(pid: number): number[] {
  // Linux nice is per thread: every thread of the process gets it (threads created later inherit it).
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number).filter((t) => Number.isInteger(t) && t > 0);
  } catch {
    return [pid];
  }
}

/**
 * Lower a background work process's CPU and I/O priority as the policy says: nice on each of its threads
 * (os.setPriority) and the I/O class with `ionice -p` when present. Never raises a priority.
 */
export async function applyBackgroundPriority(pid: number, policy: Pick<ResourcePolicy, "backgroundNice" | "backgroundIoniceClass">): Promise<PriorityApplied> {
  const problems: string[] = [];
  let nice: number | null = null;
  for (const tid of tasksOf(pid)) {
    try {
      if (os.getPriority(tid) < policy.backgroundNice) os.setPriority(tid, policy.backgroundNice);
      nice = policy.backgroundNice;
    } catch (err) {
      problems.push(`nice ${policy.backgroundNice} on ${tid}: ${(err as Error).message}`);
    }
  }
  let ionice: string | null = null;
  if (policy.backgroundIoniceClass !== "none") {
    if (!hasIonice()) problems.push("ionice is not available on this platform");
    else {
      const args = policy.backgroundIoniceClass === "idle" ? ["-c", "3", "-p", String(pid)] : ["-c", "2", "-n", "7", "-p", String(pid)];
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn("ionice", args, { stdio: "ignore" });
        p.once("error", () => resolve(-1));
        p.once("exit", (c) => resolve(c));
      });
      if (code === 0) ionice = policy.backgroundIoniceClass;
      else problems.push(`ionice ${args.join(" ")} exited ${code}`);
    }
  }
  return { nice, ionice, problems };
}
