import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The seam STYLE.md asks for: only repositories touch Prisma; everything else goes through them.
const SRC = path.dirname(fileURLToPath(import.meta.url));
const files = (fs.readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".spec.ts") && !f.startsWith("testing"))
  .map((f) => ({ rel: f.split(path.sep).join("/"), text: fs.readFileSync(path.join(SRC, f), "utf8") }));

// Composition roots create the client; the writers run inside the reports repository's transaction.
const MAY_CREATE_CLIENT = ["app.ts", "cli.ts", "main.ts"];
const REPOSITORY_HELPERS = ["reports/report-writers.ts"];

describe("architecture", () => {
  it("only repositories inject the Prisma client", () => {
    const offenders = files.filter((f) => /@Inject\(PRISMA\)/.test(f.text) && !f.rel.endsWith(".repository.ts")).map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it("only repositories, their helpers and the composition roots import Prisma values", () => {
    const valueImport = /^import (?!type )[^;]*from "@fleet\/db";/m;
    const offenders = files
      .filter((f) => valueImport.test(f.text))
      .map((f) => f.rel)
      .filter((rel) => !rel.endsWith(".repository.ts") && !MAY_CREATE_CLIENT.includes(rel) && !REPOSITORY_HELPERS.includes(rel));
    expect(offenders).toEqual([]);
  });

  it("nothing but common/env.ts reads process.env", () => {
    const offenders = files.filter((f) => /process\.env/.test(f.text) && f.rel !== "common/env.ts").map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it("scans the real tree", () => {
    expect(files.length).toBeGreaterThan(30);
  });
});
