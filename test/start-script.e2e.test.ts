import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "@fleet/test-utils";
import { afterAll, describe, expect, it } from "vitest";

// `pnpm start | tee start.log`, then Ctrl-C: tee dies with everyone in the foreground group, the start script's
// stdout breaks (EPIPE), and it must still stop NATS, the server, the console, the agent and the database.
// Runs the real script on the built apps (pnpm test builds first), with its own data dir and ports.
const root = resolve(import.meta.dirname, "..");
const dataDir = mkdtempSync(join(tmpdir(), "fleet-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** pid -> parent pid of every process, from /proc */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...; comm may hold spaces and parentheses: read after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      table.set(Number(entry), ppid);
    } catch {
      // the process ended while we listed it
    }
  }
  return table;
}

function descendants(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

// no DATABASE_URL: the embedded PostgreSQL (as root, relocated under /var/tmp, since mkdtemp made dataDir 0700)
const { DATABASE_URL: _external, NATS_URL: _externalNats, ...envWithoutDatabase } = process.env;

describe("pnpm start piped into a process that exits", () => {
  it("stops every child on Ctrl-C although its stdout is gone", async () => {
    const [port, consolePort] = [await freePort(), await freePort()];
    // A shell stands in for the terminal's job: `start | head -n 1` in its own process group, which then gets the SIGINT
    // the terminal sends on Ctrl-C. head exits after the first line: the pipe breaks long before start is done.
    const job = spawn("sh", ["-c", `exec node scripts/start.mjs 2>${join(dataDir, "stderr.log")} | head -n 1 >/dev/null; wait`], {
      cwd: root,
      detached: true,
      stdio: "ignore",
      env: { ...envWithoutDatabase, FLEET_SKIP_BUILD: "1", FLEET_DATA_DIR: dataDir, PORT: String(port), CONSOLE_PORT: String(consolePort) },
    });
    try {
      let startPid = 0;
      // postgres, nats-server, server, console and agent
      await waitFor(
        async () => {
          startPid = descendants(job.pid!).find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("scripts/start.mjs")) ?? 0;
          if (!startPid) return false;
          const consoleUp = await fetch(`http://127.0.0.1:${consolePort}/`).then((r) => r.status < 500, () => false);
          return consoleUp && descendants(startPid).length >= 5;
        },
        "the stack up behind a broken pipe",
        90_000,
      );
      expect(await fetch(`http://127.0.0.1:${port}/api/v1`).then((r) => r.status)).toBe(200);
      // the first start created an admin and its one-time setup link (printed, and kept 0600 in the data dir): it works once
      const setupUrl = new URL(readFileSync(join(dataDir, "first-admin-setup-link"), "utf8").trim());
      expect(setupUrl.origin).toBe(`http://127.0.0.1:${consolePort}`);
      expect(statSync(join(dataDir, "first-admin-setup-link")).mode & 0o077).toBe(0);
      const setup = () =>
        fetch(`http://127.0.0.1:${port}/api/v1/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: setupUrl.searchParams.get("token"), password: "first admin password" }) });
      const first = await setup();
      expect(first.status).toBe(200);
      expect(((await first.json()) as { user: { email: string; role: string } }).user).toMatchObject({ email: "admin@fleet.local", role: "admin" });
      expect((await setup()).status).toBe(401);
      const tree = [startPid, ...descendants(startPid)];
      process.kill(-job.pid!, "SIGINT");
      await waitFor(() => tree.every((p) => !alive(p)), "every process of the stack gone after Ctrl-C", 40_000);
      expect(readFileSync(join(dataDir, "stderr.log"), "utf8")).not.toMatch(/EPIPE|Unhandled|Error:/);
    } finally {
      // On any failure above, leave nothing behind: Ctrl-C first (the script stops its detached children), then SIGKILL
      // whatever of the tree is still there.
      const left = [job.pid!, ...descendants(job.pid!)];
      try {
        process.kill(-job.pid!, "SIGINT");
      } catch {
        // already gone
      }
      await waitFor(() => left.every((p) => !alive(p)), "the stack gone", 30_000).catch(() => {
        for (const p of left) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            // already gone
          }
        }
      });
      rmSync(`/var/tmp/fleetwise-${createHash("sha256").update(join(dataDir, "pg")).digest("hex").slice(0, 12)}`, { recursive: true, force: true });
    }
  });
});
