import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";

/** Newest mtime (ms) of the files under `paths`, skipping node_modules and build output. */
export function newestMtime(paths: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== ".next" && e !== "dist" && e !== ".screenshots") walk(path.join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  paths.forEach(walk);
  return newest;
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, encoding: "utf8", timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} in ${cwd} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Make sure `next start` serves the current sources: rebuild @fleet/protocol's dist and the console's
 * `.next` only when a source file is newer than the build (CI has just built both with turbo).
 * CONSOLE_E2E_BUILD=always forces both builds.
 */
export function buildIfStale(consoleDir: string, protocolDir: string, nextBin: string): { protocol: boolean; console: boolean } {
  return withBuildLock(path.join(consoleDir, ".e2e-build.lock"), () => buildIfStaleUnlocked(consoleDir, protocolDir, nextBin));
}

/**
 * Browser spec files run in parallel and each checks the build: one at a time (mkdir is atomic), so two
 * `next build`s never write the same .next; the second finds it fresh. A lock older than 5 min is a crashed run's.
 */
function withBuildLock<T>(lockDir: string, fn: () => T): T {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const held = statSync(lockDir, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function buildIfStaleUnlocked(consoleDir: string, protocolDir: string, nextBin: string): { protocol: boolean; console: boolean } {
  const force = process.env.CONSOLE_E2E_BUILD === "always";
  const protocolDist = path.join(protocolDir, "dist/index.js");
  const protocolStale =
    force || !existsSync(protocolDist) || newestMtime([path.join(protocolDir, "src")]) > statSync(protocolDist).mtimeMs;
  if (protocolStale) run("pnpm", ["exec", "tsc", "-p", "tsconfig.json"], protocolDir);

  const buildId = path.join(consoleDir, ".next/BUILD_ID");
  const sources = ["app", "lib", "ui", "next.config.ts", "package.json", "tsconfig.json"].map((p) => path.join(consoleDir, p));
  const consoleStale =
    force || protocolStale || !existsSync(buildId) || Math.max(newestMtime(sources), newestMtime([path.join(protocolDir, "dist")])) > statSync(buildId).mtimeMs;
  if (consoleStale) run(nextBin, ["build"], consoleDir);
  return { protocol: protocolStale, console: consoleStale };
}
