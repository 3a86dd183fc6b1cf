import type { NextConfig } from "next";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

const config: NextConfig = {
  // @fleet/protocol is consumed through its built dist (turbo builds it first: build dependsOn ^build).
  // Turbopack cannot map the ".js" specifiers in its TypeScript source to ".ts" (no extensionAlias),
  // which is also why the console's own relative imports are extensionless.
  transpilePackages: ["@fleet/protocol"],
  turbopack: { root: path.join(here, "../..") },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
