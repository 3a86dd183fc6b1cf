import type { ErrorCode } from "@fleet/protocol";

/** An API failure with its status and protocol error code; the server renders it as errorBody. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
