import { createZodDto } from "nestjs-zod";
import {
  ZAuthMeV1,
  ZAuthSessionV1,
  ZLoginRequestV1,
  ZOidcCallbackRequestV1,
  ZOidcInfoV1,
  ZOidcStartRequestV1,
  ZOidcStartV1,
  ZSetupRequestV1,
} from "@fleet/protocol";

export class LoginRequestDto extends createZodDto(ZLoginRequestV1) {}
export class SetupRequestDto extends createZodDto(ZSetupRequestV1) {}
export class AuthSessionDto extends createZodDto(ZAuthSessionV1) {}
export class AuthMeDto extends createZodDto(ZAuthMeV1) {}
export class OidcInfoDto extends createZodDto(ZOidcInfoV1) {}
export class OidcStartRequestDto extends createZodDto(ZOidcStartRequestV1) {}
export class OidcStartDto extends createZodDto(ZOidcStartV1) {}
export class OidcCallbackRequestDto extends createZodDto(ZOidcCallbackRequestV1) {}
