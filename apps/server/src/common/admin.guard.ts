import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { ErrorCode } from "@fleet/protocol";
import { AppError } from "./app-error.js";
import { CONFIG } from "./config.token.js";
import type { ServerConfig } from "./env.js";
import { isAdminBearer } from "./admin-token.js";

const PUBLIC_ROUTE = "fleet:public";
/** Marks a route that needs no admin token (enroll, health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Global guard: every HTTP route needs the admin bearer token unless marked @Public(). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== "http") return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()]);
    if (isPublic) return true;
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    if (isAdminBearer(req.headers.authorization, this.config.adminToken)) return true;
    throw new AppError(ErrorCode.Unauthorized, req.headers.authorization ? "invalid admin token" : "missing bearer token");
  }
}
