import { cookies } from "next/headers";
import { ErrorCode, errorBody, ZDeviceId } from "@fleet/protocol";
import { ServerError, ServerUnreachableError } from "../../../lib/api-errors";
import { consoleEnv, ConsoleConfigError } from "../../../lib/env";
import { eventHub } from "../../../lib/live/eventHub";
import { relayFleetEvents } from "../../../lib/live/relayFleetEvents";
import { sessionIsValid } from "../../../lib/live/streamSession";
import { logLine } from "../../../lib/logLine";
import { SESSION_COOKIE } from "../../../lib/sessionCookie";

// Live fleet events for the browser as Server-Sent Events. The console holds ONE upstream socket.io
// connection (FLEET_EVENTS_TOKEN, read-only) shared by every browser stream; each stream is allowed by its
// user's session cookie, and at most FLEET_CONSOLE_MAX_STREAMS are open at once (503 beyond).
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });

export async function GET(request: Request): Promise<Response> {
  const rawDevice = new URL(request.url).searchParams.get("deviceId");
  const device = rawDevice === null ? null : ZDeviceId.safeParse(rawDevice);
  if (device && !device.success) return json(400, errorBody(ErrorCode.ValidationFailed, `deviceId: ${device.error.issues[0]?.message ?? "invalid"}`));

  let env;
  try {
    env = consoleEnv();
  } catch (e) {
    if (e instanceof ConsoleConfigError) return json(503, errorBody(ErrorCode.Unavailable, e.message));
    throw e;
  }
  if (!env.FLEET_EVENTS_TOKEN) return json(503, errorBody(ErrorCode.Unavailable, "live updates are off: set FLEET_EVENTS_TOKEN in the console's environment (the server's FLEET_EVENTS_TOKEN)"));

  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  let allowed = false;
  try {
    allowed = token ? await sessionIsValid(token) : false;
  } catch {
    return json(502, errorBody(ErrorCode.Unavailable, "the server could not check your session"));
  }
  if (!allowed || !token) return json(401, errorBody(ErrorCode.Unauthorized, "sign in again: your session has ended"));

  const hub = eventHub(env.FLEET_SERVER_URL, env.FLEET_EVENTS_TOKEN, env.FLEET_CONSOLE_MAX_STREAMS);
  try {
    await hub.ready();
  } catch (e) {
    if (e instanceof ServerError) return json(502, errorBody(ErrorCode.Unauthorized, e.message));
    if (e instanceof ServerUnreachableError) return json(502, errorBody(ErrorCode.Unavailable, e.message));
    return json(502, errorBody(ErrorCode.Unavailable, "the server's event stream is unavailable"));
  }
  if (request.signal.aborted) return new Response(null, { status: 499 });

  const body = relayFleetEvents(hub.fan, {
    scope: { deviceId: device?.data ?? null },
    heartbeatMs: env.FLEET_EVENTS_HEARTBEAT_MS,
    signal: request.signal,
    stillAllowed: () => sessionIsValid(token),
  });
  if (!body) {
    logLine("warn", "live stream refused: cap reached", { max: env.FLEET_CONSOLE_MAX_STREAMS });
    return json(503, errorBody(ErrorCode.Unavailable, `too many open live streams (${env.FLEET_CONSOLE_MAX_STREAMS}); try again shortly`), { "retry-after": "10" });
  }
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: keeps Next's gzip (and proxies) from buffering the stream
      "cache-control": "no-cache, no-store, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
