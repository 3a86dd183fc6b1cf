import "server-only";
import { z } from "zod";

// Read on the server only: the admin token must never be bundled into client code, so nothing
// here is NEXT_PUBLIC_ and this module refuses to be imported from a client component.
const ZConsoleEnv = z.object({
  FLEET_SERVER_URL: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:4100"),
  FLEET_ADMIN_TOKEN: z.string().min(1, "FLEET_ADMIN_TOKEN is required (the server's admin bearer token)"),
});
export type ConsoleEnv = z.infer<typeof ZConsoleEnv>;

/** Raised when the console's environment is incomplete; the page shows it instead of crashing. */
export class ConsoleConfigError extends Error {
  override name = "ConsoleConfigError";
}

let cached: ConsoleEnv | undefined;

/** Parse process.env once and list every bad key at once. */
export function consoleEnv(source: NodeJS.ProcessEnv = process.env): ConsoleEnv {
  if (cached && source === process.env) return cached;
  const parsed = ZConsoleEnv.safeParse({
    FLEET_SERVER_URL: source.FLEET_SERVER_URL || undefined,
    FLEET_ADMIN_TOKEN: source.FLEET_ADMIN_TOKEN,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConsoleConfigError(`console environment is invalid: ${problems}`);
  }
  const env = { ...parsed.data, FLEET_SERVER_URL: parsed.data.FLEET_SERVER_URL.replace(/\/+$/, "") };
  if (source === process.env) cached = env;
  return env;
}
