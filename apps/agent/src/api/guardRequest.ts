import { createHash } from "node:crypto";
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

/** The client's address as one key whatever the socket family: ::ffff:127.0.0.1 and 127.0.0.1 are one client. */
function clientKey(address: string | undefined): string {
  return (address ?? "unknown").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

export interface GuardOptions {
  api: LocalApiConfig;
  loopbackBind: boolean;
  token: string | null;
  /** requests with a valid token, per token: nobody without the token can use up the owner's budget */
  limiter: RateLimiter;
  /** failed authentications, per client address, counted apart from the owner's requests */
  authFailures: RateLimiter;
}

/**
 * Every check that runs before a route, in order: DNS-rebinding guard (loopback binds answer loopback Host
 * names only, as Ollama does), cross-site guard (a browser page elsewhere, e.g. `<img src=…/health>`, is
 * refused unless its origin is allowed), CORS allowlist and preflight, bearer token (failures throttled per
 * client), then the rate limit of the token. Throws HttpError; returns true when a CORS preflight was answered.
 */
export function guardRequest(req: IncomingMessage, res: ServerResponse, opts: GuardOptions): boolean {
  const host = req.headers.host;
  if (opts.loopbackBind && (!host || !isLoopbackHost(hostName(host)))) {
    throw new HttpError(403, ErrorCode.Forbidden, `Host header ${JSON.stringify(host ?? "")} is not a loopback name; this API only answers localhost`);
  }
  const origin = req.headers.origin;
  const allowedOrigin = origin !== undefined && opts.api.corsOrigins.includes(origin);
  if (origin !== undefined && !allowedOrigin) {
    throw new HttpError(403, ErrorCode.Forbidden, `origin ${JSON.stringify(origin)} is not in runtime.api.corsOrigins`);
  }
  if (req.headers["sec-fetch-site"] === "cross-site" && !allowedOrigin) {
    throw new HttpError(403, ErrorCode.Forbidden, "cross-site requests are refused (Sec-Fetch-Site: cross-site); allow the page's origin in runtime.api.corsOrigins");
  }
  if (allowedOrigin) {
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
  if (!checkBearer(req.headers.authorization, opts.token)) {
    const wait = opts.authFailures.take(clientKey(req.socket.remoteAddress));
    if (wait > 0) {
      throw new HttpError(429, ErrorCode.RateLimited, "too many failed authentications; retry later", undefined, { "Retry-After": String(wait) });
    }
    throw new HttpError(401, ErrorCode.Unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)", undefined, {
      "WWW-Authenticate": 'Bearer realm="fleet-agent"',
    });
  }
  // one token: its requests share one budget, keyed by a digest so the token itself is not kept as a map key
  const retryAfter = opts.limiter.take(createHash("sha256").update(opts.token ?? "").digest("hex"));
  if (retryAfter > 0) {
    throw new HttpError(429, ErrorCode.RateLimited, `rate limit of ${opts.api.rateLimitPerMinute} requests per minute exceeded`, undefined, {
      "Retry-After": String(retryAfter),
    });
  }
  return false;
}
