import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode } from "@fleet/protocol";
import type { LocalApiConfig } from "../runtime/config.js";
import { checkBearer } from "./checkBearer.js";
import { HttpError } from "./HttpError.js";
import { isLoopbackHost } from "./isLoopbackHost.js";
import type { RateLimiter } from "./RateLimiter.js";

function hostName(hostHeader: string): string {
  // "[::1]:8080" -> "::1", "localhost:11435" -> "localhost"
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader) ?? /^([^:]+)(?::\d+)?$/.exec(hostHeader);
  return m ? m[1]! : hostHeader;
}

/**
 * Every check that runs before a route, in order: DNS-rebinding guard (loopback binds answer loopback Host
 * names only, as Ollama does), CORS allowlist, per-client rate limit, bearer token. Throws HttpError;
 * returns true when the request was a CORS preflight that has been answered.
 */
export function guardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: { api: LocalApiConfig; loopbackBind: boolean; token: string | null; limiter: RateLimiter },
): boolean {
  const host = req.headers.host;
  if (opts.loopbackBind && (!host || !isLoopbackHost(hostName(host)))) {
    throw new HttpError(403, ErrorCode.Forbidden, `Host header ${JSON.stringify(host ?? "")} is not a loopback name; this API only answers localhost`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (!opts.api.corsOrigins.includes(origin)) {
      throw new HttpError(403, ErrorCode.Forbidden, `origin ${JSON.stringify(origin)} is not in runtime.api.corsOrigins`);
    }
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
      });
      res.end();
      return true;
    }
  }
  const client = req.socket.remoteAddress ?? "unknown";
  const retryAfter = opts.limiter.take(client);
  if (retryAfter > 0) {
    throw new HttpError(429, ErrorCode.RateLimited, `rate limit of ${opts.api.rateLimitPerMinute} requests per minute exceeded`, undefined, {
      "Retry-After": String(retryAfter),
    });
  }
  if (!checkBearer(req.headers.authorization, opts.token)) {
    throw new HttpError(401, ErrorCode.Unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)", undefined, {
      "WWW-Authenticate": 'Bearer realm="fleet-agent"',
    });
  }
  return false;
}
