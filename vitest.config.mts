import { defineConfig } from "vitest/config";

// One root config, one project per workspace: `pnpm test` runs them all, `--project <name>` one.
// The "source" condition makes workspace packages resolve to their TypeScript source in tests.
const sourceResolve = { conditions: ["source", "import", "module", "node", "default"] };
const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  resolve: sourceResolve,
  // No "import" here: Node applies these conditions to require() inside CommonJS dependencies too, so pg's
  // require("pg-pool") got the ESM build ("Class extends value [object Module]"). Node adds import/require itself.
  ssr: { resolve: { conditions: ["source", "node", "default"], externalConditions: ["source"] } },
  test: {
    name,
    root: dir,
    include: ["**/*.spec.ts", "**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "**/.next/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...extra,
  },
});

// CI reads one plain closing line ("N passed, N failed, N skipped") in any language; print it after the default report.
const plainSummary = {
  onTestRunEnd(modules: ReadonlyArray<{ children: { allTests(): Iterable<{ result(): { state: string } }> } }>) {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") count.passed++;
        else if (state === "failed") count.failed++;
        else count.skipped++;
      }
    }
    console.log(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped`);
  },
};

export default defineConfig({
  test: {
    reporters: ["default", plainSummary],
    projects: [
      project("protocol", "packages/protocol"),
      project("catalog", "packages/catalog"),
      project("test-utils", "packages/test-utils"),
      project("db", "prisma"),
      project("server", "apps/server"),
      project("agent", "apps/agent"),
      project("console", "apps/console"),
      project("e2e", "test", { fileParallelism: false }),
    ],
  },
});
