import { z } from "zod";

/** Every error a client can see has one of these codes; the server maps each to one HTTP status. */
export const ErrorCode = {
  ValidationFailed: "validation_failed",
  NotFound: "not_found",
  Unauthorized: "unauthorized",
  Forbidden: "forbidden",
  Conflict: "conflict",
  TokenInvalid: "enrollment_token_invalid",
  TokenExpired: "enrollment_token_expired",
  TokenUsed: "enrollment_token_used",
  PayloadTooLarge: "payload_too_large",
  RateLimited: "rate_limited",
  InvalidCredentials: "invalid_credentials",
  TooManyAttempts: "too_many_attempts",
  Unavailable: "unavailable",
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ZErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type TErrorBody = z.infer<typeof ZErrorBody>;

export function errorBody(code: ErrorCode, message: string, details?: unknown): TErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
