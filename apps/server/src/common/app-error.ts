import { ErrorCode } from "@fleet/protocol";

/** An error meant for the client: the global filter turns `code` into an HTTP status and an errorBody. */
export class AppError extends Error {
  override name = "AppError";
  /** sent as Retry-After (seconds) with the error */
  retryAfterSec?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  override name = "NotFoundError";
  constructor(what: string, id: string) {
    super(ErrorCode.NotFound, `${what} ${id} not found`);
  }
}
