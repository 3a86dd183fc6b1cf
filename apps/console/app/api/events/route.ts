import { ErrorCode, errorBody, ZDeviceId } from "@fleet/protocol";
import { ServerError, ServerUnreachableError } from "../../../lib/api-errors";
import { consoleEnv, ConsoleConfigError } from "../../../lib/env";
import { connectFleetEvents } from "../../../lib/live/connectFleetEvents";
import { relayFleetEvents } from "../../../lib/live/relayFleetEvents";
import { logLine } from "../../../lib/logLine";

// Live fleet events for the browser as Server-Sent Events. The admin token stays here: the browser
// talks only to this route, which holds one upstream socket.io connection per browser connection.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

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

  let socket;
  try {
    socket = await connectFleetEvents(env.FLEET_SERVER_URL, env.FLEET_ADMIN_TOKEN);
  } catch (e) {
    if (e instanceof ServerError) {
      logLine("warn", "fleet event stream refused", { code: e.code });
      return json(502, errorBody(ErrorCode.Unauthorized, e.message));
    }
    if (e instanceof ServerUnreachableError) {
      logLine("warn", "fleet event stream unreachable", { url: e.url, cause: e.cause instanceof Error ? e.cause.message : String(e.cause) });
      return json(502, errorBody(ErrorCode.Unavailable, e.message));
    }
    throw e;
  }
  if (request.signal.aborted) {
    socket.close();
    return new Response(null, { status: 499 });
  }

  const body = relayFleetEvents(socket, { scope: { deviceId: device?.data ?? null }, heartbeatMs: env.FLEET_EVENTS_HEARTBEAT_MS, signal: request.signal });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: keeps Next's gzip (and proxies) from buffering the stream
      "cache-control": "no-cache, no-store, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
