import { Injectable, Module, type ExecutionContext } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { ThrottlerGuard, ThrottlerModule, type ThrottlerLimitDetail } from "@nestjs/throttler";
import { isAdminBearer } from "./admin-token.js";
import { bearerOf } from "../auth/principal.js";
import { SessionService } from "../auth/session.service.js";
import { CONFIG } from "./config.token.js";
import type { ServerConfig } from "./env.js";
import { MetricsService } from "./metrics.service.js";

const MINUTE_MS = 60_000;

/**
 * The admin token and signed-in users (a session token this server signed, not expired) are trusted, and the console
 * relays every user's requests from one address: no shared budget for them. Anonymous callers and bad tokens have one.
 */
const isTrusted = (ctx: ExecutionContext, config: ServerConfig, sessions: SessionService) => {
  const header = ctx.switchToHttp().getRequest<{ headers?: Record<string, unknown> }>().headers?.authorization;
  if (isAdminBearer(header, config.adminToken)) return true;
  const token = bearerOf(header);
  return token !== null && sessions.isSignedSessionToken(token);
};

const isEnroll = (ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<{ method?: string; path?: string }>();
  return req.method === "POST" && req.path === "/api/v1/enroll";
};

/**
 * Per-client REST rate limits (`@nestjs/throttler`, in memory per instance): every route shares one budget per client
 * address (requests with the admin token excepted), and enrollment attempts have a smaller one of their own. The client address is Express's
 * `req.ip`: the socket address unless FLEET_TRUSTED_PROXY makes it trust X-Forwarded-For from that proxy, so a
 * forged header cannot buy a fresh budget. Refusals are 429 `rate_limited`, counted in fleet_http_throttled_total.
 */
@Injectable()
class CountingThrottlerGuard extends ThrottlerGuard {
  // Nest resolves these by type; the base class gets its own dependencies through its constructor.
  private metrics?: MetricsService;

  setMetrics(metrics: MetricsService): void {
    this.metrics = metrics;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    // websocket gateways have their own admission (admin token at the handshake)
    return context.getType() !== "http" || super.shouldSkip(context);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    this.metrics?.httpThrottled.inc({ limit: isEnroll(context) ? "enroll" : "api" });
    return super.throwThrottlingException(context, detail);
  }
}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [CONFIG, SessionService],
      useFactory: (config: ServerConfig, sessions: SessionService) => ({
        throttlers: [
          { name: "api", ttl: MINUTE_MS, limit: config.limits.ratePerMin, skipIf: (ctx: ExecutionContext) => isTrusted(ctx, config, sessions) },
          { name: "enroll", ttl: MINUTE_MS, limit: config.limits.enrollRatePerMin, skipIf: (ctx: ExecutionContext) => !isEnroll(ctx) },
        ],
        errorMessage: "too many requests from this client; retry later",
      }),
    }),
  ],
  providers: [
    CountingThrottlerGuard,
    {
      provide: APP_GUARD,
      inject: [CountingThrottlerGuard, MetricsService],
      useFactory: (guard: CountingThrottlerGuard, metrics: MetricsService) => {
        guard.setMetrics(metrics);
        return guard;
      },
    },
  ],
})
export class ThrottlingModule {}
