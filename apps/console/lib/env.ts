import "server-only";
import { parseConsoleEnv, type ConsoleEnv } from "./parseConsoleEnv";

export { ConsoleConfigError, type ConsoleEnv } from "./parseConsoleEnv";

// Read on the server only: the admin token must never be bundled into client code, so nothing
// here is NEXT_PUBLIC_ and "server-only" makes importing this from a client component a build error.
let cached: ConsoleEnv | undefined;

/** The console's environment, parsed once on first use. */
export function consoleEnv(): ConsoleEnv {
  return (cached ??= parseConsoleEnv(process.env));
}
