import { Inject, Injectable, type CanActivate, type ExecutionContext } from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { ErrorCode, roleAtLeast, type TUserRole } from "@fleet/protocol";
import { isAdminBearer } from "../common/admin-token.js";
import { AppError } from "../common/app-error.js";
import { MIN_ROLE, PUBLIC_ROUTE } from "../common/auth-metadata.js";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { currentRequestContext } from "../common/request-context.js";
import { bearerOf, type RequestWithPrincipal } from "./principal.js";
import { SessionService } from "./session.service.js";

/** One answer for a bad token of any kind: a forged, expired or signed-out session, or a wrong admin token. */
export const INVALID_TOKEN = "invalid token: session expired or signed out (sign in again), or wrong admin token";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The least role a route needs: its @Roles, else viewer for reads and admin for everything else. */
export function requiredRole(method: string, declared: TUserRole | undefined): TUserRole {
  return declared ?? (READS.has(method.toUpperCase()) ? "viewer" : "admin");
}

/**
 * Global guard (contract 1): every HTTP route needs a session token (`Authorization: Bearer <jwt>`) or the admin token
 * (role admin) unless marked @Public(); the caller's role must reach the route's @Roles (default: GET viewer, else
 * admin). No or bad credentials: 401; too small a role: 403 `forbidden`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionService,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== "http") return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx.switchToHttp().getRequest<RequestWithPrincipal>();
    const header = req.headers.authorization;
    if (isAdminBearer(header, this.config.adminToken)) {
      req.principal = { kind: "admin-token", role: "admin", actor: "admin" };
    } else {
      const token = bearerOf(header);
      if (!token) throw new AppError(ErrorCode.Unauthorized, header ? "malformed Authorization header (expected Bearer <token>)" : "missing bearer token");
      const principal = await this.sessions.verify(token);
      if (!principal) throw new AppError(ErrorCode.Unauthorized, INVALID_TOKEN);
      req.principal = principal;
    }
    const ctxStore = currentRequestContext();
    if (ctxStore) ctxStore.actor = req.principal.actor;
    const need = requiredRole(req.method, this.reflector.getAllAndOverride<TUserRole | undefined>(MIN_ROLE, targets));
    if (!roleAtLeast(req.principal.role, need)) {
      throw new AppError(ErrorCode.Forbidden, `this action needs the ${need} role; you are ${req.principal.role}`);
    }
    return true;
  }
}
