import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_TEST_DATABASE_URL } from "./testing.js";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const adminUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
// The exact command of the db:check script, run the way pnpm runs it (sh, package root, node_modules/.bin on PATH),
// without pnpm itself: its startup sometimes fails resolving its own config dependencies.
const dbCheck: string = JSON.parse(readFileSync(join(pkgRoot, "package.json"), "utf8")).scripts["db:check"];

function run(command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      cwd: pkgRoot,
      env: { ...process.env, DATABASE_URL: adminUrl, PATH: `${join(pkgRoot, "node_modules/.bin")}:${process.env.PATH}` },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), "fleet-db-check-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("db:check (migrations vs schema.prisma)", () => {
  it("finds no drift: exit 0", async () => {
    const { code, output } = await run(dbCheck);
    expect(output).toContain("No difference detected");
    expect(code).toBe(0);
  });

  it("exits 2 when schema.prisma has a change no migration carries", async () => {
    const drifted = join(tmp, "schema.prisma");
    writeFileSync(drifted, readFileSync(join(pkgRoot, "schema.prisma"), "utf8") + "\nmodel DriftProbe {\n  id Int @id\n}\n");
    const { code, output } = await run(dbCheck.replace("schema.prisma", drifted));
    expect(output).toContain("DriftProbe");
    expect(code).toBe(2);
  });
});
