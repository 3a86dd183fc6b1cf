import { createZodDto } from "nestjs-zod";
import { ZCreateEnrollmentTokenRequestV1, ZCreateEnrollmentTokenResponseV1, ZEnrollRequestV1, ZEnrollResponseV1 } from "@fleet/protocol";

export class CreateEnrollmentTokenDto extends createZodDto(ZCreateEnrollmentTokenRequestV1) {}
export class EnrollmentTokenDto extends createZodDto(ZCreateEnrollmentTokenResponseV1) {}
export class EnrollRequestDto extends createZodDto(ZEnrollRequestV1) {}
export class EnrollResponseDto extends createZodDto(ZEnrollResponseV1) {}
