import "reflect-metadata";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { IoAdapter } from "@nestjs/platform-socket.io";
import { DocumentBuilder, SwaggerModule } from "@nestjs/swagger";
import { cleanupOpenApiDoc } from "nestjs-zod";
import { pinoHttp } from "pino-http";
import type { Logger } from "pino";
import { createPrismaClient, type PrismaClient } from "@fleet/db";
import { AppModule } from "./app.module.js";
import type { ServerConfig } from "./common/env.js";
import { HttpErrorFilter, toErrorResponse } from "./common/http-exception.filter.js";
import { createRootLogger, NestPinoLogger } from "./common/logger.js";
import { toOpenApi30 } from "./common/openapi-30.js";
import { loadOrCreateServerKey } from "./common/server-key.js";
import { requestContextMiddleware } from "./common/request-context.js";
import { withTimeout } from "./common/with-timeout.js";
import { NatsAuthority } from "./nats/nats-authority.js";
import { NatsService } from "./nats/nats.service.js";

export type { ServerConfig } from "./common/env.js";
export { parseEnv, EnvError } from "./common/env.js";
export { FleetEvent, type FleetEventMessage, type FleetEventType } from "./events/fleet-events.js";

/**
 * Bounds of the shutdown steps (25 s in all, under main.ts's 27 s, after which it exits whatever happens): generous,
 * since close() rejects when one is late, and a loaded machine (CI) stretches a healthy shutdown several-fold.
 */
const SHUTDOWN_APP_MS = 12_000;
const SHUTDOWN_NATS_MS = 7_000;
const SHUTDOWN_PRISMA_MS = 6_000;

/** Largest JSON body accepted; reports travel over NATS, so REST bodies are small. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface CreateServerOptions {
  /** use this client instead of creating one from config.databaseUrl (the caller then owns it) */
  prisma?: PrismaClient;
  /** root logger (default: pino JSON on stdout at config.logLevel) */
  logger?: Logger;
}

export interface FleetServer {
  app: NestExpressApplication;
  /** base URL, e.g. http://127.0.0.1:4100 (the real port when config.port is 0) */
  url: string;
  /** stop accepting requests, stop consuming, close NATS and (if owned) the database client */
  close(): Promise<void>;
}

/** Start a complete control plane in this process: HTTP + websocket + NATS report consumer. */
export async function createServer(config: ServerConfig, opts: CreateServerOptions = {}): Promise<FleetServer> {
  const log = opts.logger ?? createRootLogger(config.logLevel);
  const serverKey = await loadOrCreateServerKey(config.serverKeyFile);
  const natsAuthority = config.natsKeysFile ? await NatsAuthority.load(config.natsKeysFile) : null;
  const prisma = opts.prisma ?? createPrismaClient(config.databaseUrl);
  const ownsPrisma = !opts.prisma;
  let nats: NatsService | null = null;
  let app: NestExpressApplication | null = null;
  try {
    nats = await NatsService.connect(config, log, natsAuthority);
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, log, prisma, nats, serverKey, natsAuthority }), {
      logger: new NestPinoLogger(log.child({ context: "Nest" })),
      bodyParser: false,
    });
    configureHttp(app, log);
    // Off unless configured: then X-Forwarded-For from that proxy names the client (rate limits, logs); else the socket address.
    app.set("trust proxy", config.limits.trustedProxy ?? false);
    app.useWebSocketAdapter(new IoAdapter(app));
    setupOpenApi(app);
    await app.listen(config.port, config.host);
  } catch (err) {
    await app?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    if (ownsPrisma) await prisma.$disconnect().catch(() => undefined);
    throw err;
  }
  const addr = app.getHttpServer().address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`;
  log.info({ url, subjectPrefix: config.subjectPrefix, stream: config.stream }, "fleet server listening");
  const started = { app, nats };
  let closing: Promise<void> | null = null;
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        const t0 = performance.now();
        const failures: string[] = [];
        // Every step bounded, so one that hangs (a consumer, a pool with a checked-out client after a database
        // restart) is reported and the next steps still run; the connections are closed whatever happened before.
        const step = async (what: string, ms: number, fn: () => Promise<void>) => {
          const s0 = performance.now();
          try {
            await withTimeout(fn(), ms, what);
          } catch (err) {
            failures.push(what);
            log.error({ err, step: what }, "shutdown step failed or was late; going on");
            return;
          }
          const took = Math.round(performance.now() - s0);
          if (took > ms / 2) log.warn({ step: what, ms: took }, "shutdown step was slow");
        };
        await step("stopping the application (HTTP, websocket, consumers)", SHUTDOWN_APP_MS, () => started.app.close());
        // NatsService.close bounds its own drain and close (3 s each)
        await step("closing NATS", SHUTDOWN_NATS_MS, () => started.nats.close());
        if (ownsPrisma) await step("disconnecting Prisma", SHUTDOWN_PRISMA_MS, () => prisma.$disconnect());
        log.info({ ms: Math.round(performance.now() - t0), failures }, "fleet server stopped");
        if (failures.length) throw new Error(`fleet server shutdown: ${failures.join(", ")} failed or took too long`);
      })()),
  };
}

function configureHttp(app: NestExpressApplication, log: Logger): void {
  app.disable("x-powered-by");
  // who is acting, for the audit trail (set by the AuthGuard)
  app.use(requestContextMiddleware);
  app.use(
    pinoHttp({
      logger: log.child({ context: "http" }),
      // Correlation id: the caller's X-Request-Id if sane, else a new one; echoed back.
      genReqId: (req, res) => {
        const given = req.headers["x-request-id"];
        const id = typeof given === "string" && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
      redact: ["req.headers.authorization", "req.headers.cookie"],
    }),
  );
  app.useBodyParser("json", { limit: MAX_BODY_BYTES });
  // Body-parser failures (too large, bad JSON) happen before Nest's filters: answer them with the same errorBody.
  app.use((err: unknown, _req: unknown, res: { headersSent: boolean; status(n: number): { json(b: unknown): void } }, next: (e?: unknown) => void) => {
    if (res.headersSent) return next(err);
    const { status, body } = toErrorResponse(err);
    res.status(status).json(body);
  });
  app.useGlobalFilters(new HttpErrorFilter(log.child({ context: "HttpErrorFilter" })));
}

function setupOpenApi(app: NestExpressApplication): void {
  const cfg = new DocumentBuilder()
    .setTitle("Fleetwise control plane")
    .setDescription("Enrollment, device inventory and runtime telemetry of managed LLM workstations. Routes need `Authorization: Bearer <session token>` (POST /api/v1/auth/login) or `Bearer <FLEET_ADMIN_TOKEN>` (role admin); roles admin > operator > viewer, reads need viewer, mutations operator or admin.")
    .setVersion("1")
    .addBearerAuth({ type: "http", scheme: "bearer", bearerFormat: "JWT", description: "session token from /api/v1/auth/login, or the admin token" })
    .build();
  const doc = toOpenApi30(cleanupOpenApiDoc(SwaggerModule.createDocument(app, cfg)));
  SwaggerModule.setup("api/docs", app, doc, { jsonDocumentUrl: "api/openapi.json", yamlDocumentUrl: "api/openapi.yaml" });
}
