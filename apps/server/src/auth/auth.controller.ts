import { Body, Controller, Get, HttpCode, Post, Req } from "@nestjs/common";
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { Public, Roles } from "../common/auth-metadata.js";
import { AuthMeDto, AuthSessionDto, LoginRequestDto, SetupRequestDto } from "./auth.dto.js";
import { AuthService } from "./auth.service.js";
import type { Principal, RequestWithPrincipal } from "./principal.js";

export const clientIp = (req: RequestWithPrincipal) => req.ip ?? "unknown";
export const principalOf = (req: RequestWithPrincipal): Principal => req.principal!;

@ApiTags("auth")
@Controller("api/v1/auth")
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post("login")
  @HttpCode(200)
  @ApiOkResponse({ type: AuthSessionDto, description: "a session token (Bearer) valid until expiresAt" })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "invalid_credentials: unknown email or wrong password (one answer for both)" })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: "too_many_attempts: locked after repeated failures (per account and per client address); Retry-After in seconds" })
  login(@Body() body: LoginRequestDto, @Req() req: RequestWithPrincipal): Promise<AuthSessionDto> {
    return this.auth.login(body, clientIp(req));
  }

  @Public()
  @Post("setup")
  @HttpCode(200)
  @ApiOkResponse({ type: AuthSessionDto, description: "the password is set and a session begins; the setup link is spent" })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "unauthorized: the setup link is unknown, used or expired" })
  setup(@Body() body: SetupRequestDto, @Req() req: RequestWithPrincipal): Promise<AuthSessionDto> {
    return this.auth.setup(body, clientIp(req));
  }

  // any signed-in role may end its own session
  @Roles("viewer")
  @Post("logout")
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiAdminErrors()
  @ApiNoContentResponse({ description: "the session is revoked on the server; the token no longer works" })
  async logout(@Req() req: RequestWithPrincipal): Promise<void> {
    await this.auth.logout(principalOf(req));
  }

  @Get("me")
  @ApiBearerAuth()
  @ApiAdminErrors()
  @ApiOkResponse({ type: AuthMeDto, description: "the signed-in user and when the session ends (null for the admin token)" })
  me(@Req() req: RequestWithPrincipal): AuthMeDto {
    return this.auth.me(principalOf(req));
  }
}
