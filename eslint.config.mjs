// Lint gate (`pnpm lint`, run by .ci/run before the tests): promises that nobody awaits or that are handed to callers
// expecting a void callback lose their errors silently. Type-aware, so each file is checked with its package's tsconfig.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/.next/**", "**/generated/**", "**/*.d.ts", "apps/console/next-env.d.ts"] },
  {
    files: ["apps/*/src/**/*.{ts,tsx}", "apps/console/{app,lib,ui,e2e}/**/*.{ts,tsx}", "packages/*/src/**/*.ts", "test/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        project: [
          "apps/agent/tsconfig.json",
          "apps/server/tsconfig.json",
          "apps/console/tsconfig.spec.json",
          "packages/*/tsconfig.json",
          "tsconfig.eslint.json",
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
);
