#!/usr/bin/env node
import "reflect-metadata";
import { isEntryPoint } from "./common/is-entry-point.js";
import { applyMigrations } from "@fleet/db";
import { createServer } from "./app.js";
import { EnvError, loadEnv } from "./common/env.js";
import { createRootLogger } from "./common/logger.js";

/** Start the control plane from the environment: migrate, serve, stop cleanly on SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createRootLogger(config.logLevel);
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  const migrated = await applyMigrations(config.databaseUrl, { log: (message, data) => log.info({ ...data, context: "migrate" }, message) });
  log.info({ migrated }, "database migrations checked");
  const server = await createServer(config, { logger: log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // A stuck shutdown must not keep the process alive forever (server.close() bounds each of its steps, 25 s in all).
    setTimeout(() => {
      log.error("shutdown did not complete in 27 s; exiting");
      process.exit(1);
    }, 27_000).unref();
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (isEntryPoint(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`fleet-server failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
