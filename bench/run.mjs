// `pnpm bench [name]`: build what the benchmarks import, then run every bench/<name>.mjs (or one), in turn.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const all = fs.readdirSync(here).filter((f) => f.endsWith(".mjs") && f !== "run.mjs").map((f) => f.replace(/\.mjs$/, "")).sort();
const wanted = process.argv[2];
if (wanted && !all.includes(wanted)) {
  console.error(`unknown benchmark ${JSON.stringify(wanted)}; available: ${all.join(", ")}`);
  process.exit(2);
}

// Benchmarks run the built agent and server (dist), as they ship, plus the test helpers they start services with.
const filters = ["@fleet/agent...", "@fleet/server...", "@fleet/test-utils..."];
console.log(`[bench] building ${filters.join(" ")}`);
const build = spawnSync("pnpm", ["turbo", "run", "build", ...filters.flatMap((f) => ["--filter", f])], { cwd: root, stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } });
if (build.status !== 0) {
  console.error("[bench] build failed");
  process.exit(1);
}
let failed = 0;
for (const name of wanted ? [wanted] : all) {
  console.log(`[bench] ${name}`);
  const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`)], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
