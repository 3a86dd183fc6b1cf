import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { ErrorCode } from "@fleet/protocol";
import type { LocalApiConfig } from "../runtime/config.js";
import type { ApiBackend } from "./ApiBackend.js";
import { assertSafeBind } from "./assertSafeBind.js";
import { guardRequest } from "./guardRequest.js";
import { handleGeneration } from "./handleGeneration.js";
import { HttpError } from "./HttpError.js";
import { isLoopbackHost } from "./isLoopbackHost.js";
import { RateLimiter } from "./RateLimiter.js";
import { sendError, sendJson } from "./sendJson.js";

export interface LocalApiServerOptions {
  api: LocalApiConfig;
  /** read on every request so that a rotated token takes effect at once */
  token: () => string | null;
  backend: ApiBackend;
  logger: Logger;
  /** failed authentications allowed per client and minute (default AUTH_FAILURES_PER_MINUTE) */
  authFailuresPerMinute?: number;
}

/** Enough for a person mistyping a token; a process guessing tokens is slowed to a crawl. */
export const AUTH_FAILURES_PER_MINUTE = 30;

/** The OpenAI-compatible local inference API (node:http, no framework: the surface is small and security-critical). */
export class LocalApiServer {
  private server: http.Server | null = null;
  private readonly limiter: RateLimiter;
  private readonly authFailures: RateLimiter;
  private readonly loopbackBind: boolean;

  constructor(private readonly opts: LocalApiServerOptions) {
    this.limiter = new RateLimiter(opts.api.rateLimitPerMinute);
    this.authFailures = new RateLimiter(opts.authFailuresPerMinute ?? AUTH_FAILURES_PER_MINUTE);
    this.loopbackBind = isLoopbackHost(opts.api.host);
  }

  /** Listen; throws ApiExposureError (without listening) when the exposure is not safe. */
  async start(): Promise<AddressInfo> {
    assertSafeBind(this.opts.api, this.opts.token());
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000; // receiving the request; generation has its own timeout
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.api.port, this.opts.api.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.opts.logger.info({ address: addr.address, port: addr.port, loopbackOnly: this.loopbackBind }, "local inference API listening");
    return addr;
  }

  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Cache-Control", "no-store");
    const started = Date.now();
    try {
      if (guardRequest(req, res, { api: this.opts.api, loopbackBind: this.loopbackBind, token: this.opts.token(), limiter: this.limiter, authFailures: this.authFailures })) return;
      await this.route(req, res);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, ErrorCode.Internal, "internal error");
      if (!(err instanceof HttpError)) this.opts.logger.error({ err }, "local API handler failed");
      // An oversized body: answer at once and close after it. Node discards the rest of the body meanwhile
      // (bounded by requestTimeout), so the client reads the 413 instead of a connection reset.
      if (e.status === 413) res.setHeader("Connection", "close");
      sendError(res, e);
    } finally {
      // never log prompts or outputs: method, path, status and time only
      res.once("finish", () => this.opts.logger.debug({ method: req.method, path: req.url, status: res.statusCode, ms: Date.now() - started }, "local API request"));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const key = `${req.method} ${path}`;
    switch (key) {
      case "GET /health": {
        const s = this.opts.backend.status();
        const ready = s.state === "ready";
        return sendJson(res, ready ? 200 : 503, { status: s.state, model: s.activeModel, loadProgress: s.loadProgress });
      }
      case "GET /v1/models": {
        const models = await this.opts.backend.servableModels();
        return sendJson(res, 200, {
          object: "list",
          data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: "fleetwise", loaded: m.id === this.opts.backend.status().activeModel })),
        });
      }
      case "POST /v1/chat/completions":
        return handleGeneration("chat", req, res, this.opts.backend, this.opts.api, this.opts.logger);
      case "POST /v1/completions":
        return handleGeneration("completion", req, res, this.opts.backend, this.opts.api, this.opts.logger);
      default:
        throw new HttpError(404, ErrorCode.NotFound, `no route ${key}`);
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
