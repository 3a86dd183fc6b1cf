import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Newest mtime (ms) of the files under `paths`, skipping node_modules and build output. */
export function newestMtime(paths: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== ".next" && e !== "dist") walk(path.join(p, e));
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
