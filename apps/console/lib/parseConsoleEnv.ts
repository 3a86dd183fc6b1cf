import { z } from "zod";

const ZConsoleEnv = z.object({
  FLEET_SERVER_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("http://127.0.0.1:4100"),
  // The server's read-only events token (viewer scope, websocket only): the console's ONE shared upstream
  // event connection uses it. Optional: without it the live stream answers 503 and pages fall back to polling.
  FLEET_EVENTS_TOKEN: z.string().min(1).optional(),
  // Comment lines on the live event stream keep proxies and the browser from timing it out.
  FLEET_EVENTS_HEARTBEAT_MS: z.coerce.number({ error: "must be a number of milliseconds" }).int("must be whole milliseconds").min(100, "must be at least 100 ms").max(600_000, "must be at most 600000 ms").default(15_000),
  // Open browser event streams per console process; beyond it /api/events answers 503.
  FLEET_CONSOLE_MAX_STREAMS: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(100_000, "must be at most 100000").default(500),
  // The console's public URL (OIDC redirect URI, Secure cookies when https); derived from the request when unset.
  FLEET_CONSOLE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
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
    FLEET_EVENTS_TOKEN: source.FLEET_EVENTS_TOKEN || undefined,
    FLEET_EVENTS_HEARTBEAT_MS: source.FLEET_EVENTS_HEARTBEAT_MS || undefined,
    FLEET_CONSOLE_MAX_STREAMS: source.FLEET_CONSOLE_MAX_STREAMS || undefined,
    FLEET_CONSOLE_URL: source.FLEET_CONSOLE_URL || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConsoleConfigError(`console environment is invalid: ${problems}`);
  }
  // Paths are appended to the base URLs, so a trailing slash would double up.
  return {
    ...parsed.data,
    FLEET_SERVER_URL: parsed.data.FLEET_SERVER_URL.replace(/\/+$/, ""),
    ...(parsed.data.FLEET_CONSOLE_URL ? { FLEET_CONSOLE_URL: parsed.data.FLEET_CONSOLE_URL.replace(/\/+$/, "") } : {}),
  };
}
