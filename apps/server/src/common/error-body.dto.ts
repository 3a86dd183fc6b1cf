import { applyDecorators } from "@nestjs/common";
import { ApiBadRequestResponse, ApiUnauthorizedResponse } from "@nestjs/swagger";
import { createZodDto } from "nestjs-zod";
import { ZErrorBody } from "@fleet/protocol";

/** `{ error: { code, message, details? } }`: the body of every error response. */
export class ErrorBodyDto extends createZodDto(ZErrorBody) {}

/** OpenAPI: the 400 and 401 every admin route can answer. */
export const ApiAdminErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorBodyDto, description: "validation_failed" }),
    ApiUnauthorizedResponse({ type: ErrorBodyDto, description: "unauthorized: missing or wrong admin bearer token" }),
  );
