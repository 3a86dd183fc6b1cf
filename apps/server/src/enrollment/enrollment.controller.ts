import { Body, Controller, Inject, Post } from "@nestjs/common";
import { serverKeySha256 } from "@fleet/protocol";
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiTags, ApiUnauthorizedResponse } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { Public, Roles } from "../common/auth-metadata.js";
import { SERVER_KEY } from "../common/config.token.js";
import type { ServerKey } from "../common/server-key.js";
import { EnrollmentService } from "./enrollment.service.js";
import { CreateEnrollmentTokenDto, EnrollmentTokenDto, EnrollRequestDto, EnrollResponseDto } from "./enrollment.dto.js";

@ApiTags("enrollment")
@Controller("api/v1")
export class EnrollmentController {
  constructor(
    private readonly enrollment: EnrollmentService,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
  ) {}

  @Roles("admin")
  @Post("enrollment-tokens")
  @ApiBearerAuth()
  @ApiAdminErrors()
  @ApiCreatedResponse({ type: EnrollmentTokenDto, description: "the token is shown once; only its hash is stored" })
  async createToken(@Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenDto> {
    const issued = await this.enrollment.createToken(body.ttlSeconds, body.note);
    // the pin the admin hands over with the token (`fleet-agent enroll --server-key-sha256`)
    return { ...issued, serverKeySha256: await serverKeySha256(this.serverKey.publicJwk) };
  }

  @Public()
  @Post("enroll")
  @ApiCreatedResponse({ type: EnrollResponseDto, description: "the device is created; the token is spent" })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: "validation_failed" })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "enrollment_token_invalid, enrollment_token_expired or enrollment_token_used" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: this public key is already enrolled" })
  enroll(@Body() body: EnrollRequestDto): Promise<EnrollResponseDto> {
    return this.enrollment.enroll(body);
  }
}
