#!/usr/bin/env node
import { runCli } from "./runCli.js";

// The only place the CLI touches the process: streams, env, signals and the exit code.
const isRun = process.argv[2] === "run";
// Only `run` traps signals: any other command keeps Ctrl-C's default (exit at once).
const stopSignal = isRun
  ? new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    })
  : undefined;

const code = await runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  stopSignal,
});
process.exitCode = code;
// A graceful stop has closed everything; do not let a stray handle keep a stopped agent alive.
if (isRun) setTimeout(() => process.exit(code), 1000).unref();
