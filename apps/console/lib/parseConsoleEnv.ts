import { z } from "zod";

const ZConsoleEnv = z.object({
  FLEET_SERVER_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("http://127.0.0.1:4100"),
  FLEET_ADMIN_TOKEN: z.string({ error: "missing (the server's admin bearer token)" }).min(1, "missing (the server's admin bearer token)"),
  // Comment lines on the live event stream keep proxies and the browser from timing it out.
  FLEET_EVENTS_HEARTBEAT_MS: z.coerce.number({ error: "must be a number of milliseconds" }).int("must be whole milliseconds").min(100, "must be at least 100 ms").max(600_000, "must be at most 600000 ms").default(15_000),
});
export type ConsoleEnv = z.infer<typeof ZConsoleEnv>;

/** Raised when the console's environment is incomplete; pages show it instead of crashing. */
export class ConsoleConfigError extends Error {
  override name = "ConsoleConfigError";
}

/** Parse the console's keys, listing every bad one at once; empty strings count as unset. */
export function parseConsoleEnv(source: Record<string, string | undefined>): ConsoleEnv {
  const parsed = ZConsoleEnv.safeParse({
    FLEET_SERVER_URL: source.FLEET_SERVER_URL || undefined,
    FLEET_ADMIN_TOKEN: source.FLEET_ADMIN_TOKEN || undefined,
    FLEET_EVENTS_HEARTBEAT_MS: source.FLEET_EVENTS_HEARTBEAT_MS || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConsoleConfigError(`console environment is invalid: ${problems}`);
  }
  // Paths are appended to the base URL, so a trailing slash would double up.
  return { ...parsed.data, FLEET_SERVER_URL: parsed.data.FLEET_SERVER_URL.replace(/\/+$/, "") };
}
