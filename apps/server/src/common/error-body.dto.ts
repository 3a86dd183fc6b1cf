import { applyDecorators } from "@nestjs/common";
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiUnauthorizedResponse } from "@nestjs/swagger";
import { createZodDto } from "nestjs-zod";
import { ZErrorBody } from "@fleet/protocol";

/** `{ error: { code, message, details? } }`: the body of every error response. */
export class ErrorBodyDto extends createZodDto(ZErrorBody) {}

/** OpenAPI: the 400, 401 and 403 every authenticated route can answer. */
export const ApiAdminErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorBodyDto, description: "validation_failed" }),
    ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "unauthorized: missing, invalid, expired or signed-out session token (or wrong admin token)" }),
    ApiForbiddenResponse({ type: ErrorBodyDto, description: "forbidden: the signed-in user's role is too small for this route" }),
  );
