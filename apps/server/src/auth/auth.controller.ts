import { Body, Controller, Get, HttpCode, Post, Req } from "@nestjs/common";
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { Public, Roles } from "../common/auth-metadata.js";
import { AuthMeDto, AuthSessionDto, LoginRequestDto, OidcCallbackRequestDto, OidcInfoDto, OidcStartDto, OidcStartRequestDto, SetupRequestDto } from "./auth.dto.js";
import { OidcService } from "./oidc.service.js";
import { AuthService } from "./auth.service.js";
import type { Principal, RequestWithPrincipal } from "./principal.js";

export const clientIp = (req: RequestWithPrincipal) => req.ip ?? "unknown";
export const principalOf = (req: RequestWithPrincipal): Principal => req.principal!;

@ApiTags("auth")
@Controller("api/v1/auth")
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly oidc: OidcService,
  ) {}

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

  @Public()
  @Get("oidc")
  @ApiOkResponse({ type: OidcInfoDto, description: "whether single sign-on is configured, and the button's label" })
  oidcInfo(): OidcInfoDto {
    return this.oidc.info();
  }

  @Public()
  @Post("oidc/start")
  @HttpCode(200)
  @ApiOkResponse({ type: OidcStartDto, description: "send the browser to authorizationUrl (code flow, PKCE S256, state, nonce kept on the server for 10 minutes)" })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: "validation_failed: redirectUri is not on FLEET_CONSOLE_URL" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: single sign-on is not configured" })
  oidcStart(@Body() body: OidcStartRequestDto): Promise<OidcStartDto> {
    return this.oidc.start(body.redirectUri);
  }

  @Public()
  @Post("oidc/callback")
  @HttpCode(200)
  @ApiOkResponse({ type: AuthSessionDto, description: "signed in; the role comes from the group claim (FLEET_OIDC_ROLE_MAP)" })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "unauthorized: unknown/used/expired transaction, or the provider refused the code" })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: "forbidden: no group of the user maps to a role, or no email" })
  oidcCallback(@Body() body: OidcCallbackRequestDto, @Req() req: RequestWithPrincipal): Promise<AuthSessionDto> {
    return this.oidc.callback(body.transactionId, body.callbackUrl, clientIp(req));
  }
}
