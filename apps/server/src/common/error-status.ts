import { ErrorCode } from "@fleet/protocol";

/** The one table from error code to HTTP status. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.TokenInvalid]: 401,
  [ErrorCode.TokenExpired]: 401,
  [ErrorCode.TokenUsed]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.InvalidCredentials]: 401,
  [ErrorCode.TooManyAttempts]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.Unavailable]: 503,
};

/** Best code for a bare HTTP status (from Nest or Express internals). */
export function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).find(([code, s]) => s === status && !code.startsWith("enrollment_"));
  if (found) return found[0];
  if (status >= 500) return ErrorCode.Internal;
  return ErrorCode.ValidationFailed;
}
