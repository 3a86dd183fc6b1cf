import { Body, Controller, Post } from "@nestjs/common";
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from "@nestjs/swagger";
import { Public } from "../common/admin.guard.js";
import { EnrollmentService } from "./enrollment.service.js";
import { CreateEnrollmentTokenDto, EnrollmentTokenDto, EnrollRequestDto, EnrollResponseDto } from "./enrollment.dto.js";

@ApiTags("enrollment")
@Controller("api/v1")
export class EnrollmentController {
  constructor(private readonly enrollment: EnrollmentService) {}

  @Post("enrollment-tokens")
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: EnrollmentTokenDto, description: "the token is shown once; only its hash is stored" })
  createToken(@Body() body: CreateEnrollmentTokenDto): Promise<EnrollmentTokenDto> {
    return this.enrollment.createToken(body.ttlSeconds, body.note);
  }

  @Public()
  @Post("enroll")
  @ApiCreatedResponse({ type: EnrollResponseDto, description: "the device is created; the token is spent" })
  enroll(@Body() body: EnrollRequestDto): Promise<EnrollResponseDto> {
    return this.enrollment.enroll(body);
  }
}
