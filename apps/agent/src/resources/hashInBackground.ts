import { spawn } from "node:child_process";
import type { ResourcePolicy } from "./ZResourcesConfig.js";
import { applyBackgroundPriority, type PriorityApplied } from "./backgroundPriority.js";

// A tiny CommonJS program: no TypeScript loader needed, starts in ~40 ms.
const HASH_PROGRAM = `
const h = require("node:crypto").createHash("sha256");
require("node:fs").createReadStream(process.argv[1], { highWaterMark: 1 << 20 })
  .on("data", (c) => h.update(c))
  .on("end", () => process.stdout.write(h.digest("hex")))
  .on("error", (e) => { process.stderr.write(JSON.stringify({ code: e.code ?? null, message: e.message })); process.exit(2); });
`;

/**
 * sha256 of a file in its own process at background priority (nice + ionice as the policy says), so hashing a
 * multi-GB model does not take CPU or disk from the person using the machine. Errors keep their code (ENOENT...).
 */
export async function hashInBackground(
  file: string,
  policy: Pick<ResourcePolicy, "backgroundNice" | "backgroundIoniceClass">,
  opts: { signal?: AbortSignal; onSpawn?(pid: number): void; onPriority?(applied: PriorityApplied, pid: number): void } = {},
): Promise<string> {
  const child = spawn(process.execPath, ["-e", HASH_PROGRAM, file], { stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  if (child.pid !== undefined) {
    opts.onSpawn?.(child.pid);
    const applied = await applyBackgroundPriority(child.pid, policy);
    opts.onPriority?.(applied, child.pid);
  }
  const code = await exited;
  if (code === 0 && /^[0-9a-f]{64}$/.test(out)) return out;
  let parsed: { code: string | null; message: string } | null = null;
  try {
    parsed = JSON.parse(err) as { code: string | null; message: string };
  } catch {
    /* not our JSON: the raw stderr is the message */
  }
  throw Object.assign(new Error(parsed?.message ?? `hashing ${file} failed (exit ${code}): ${err.slice(0, 500)}`), { code: parsed?.code ?? undefined });
}
