// Named failures of a call to the Fleetwise server, so pages can show the right panel for each.

/** The server could not be reached at all (down, wrong URL, timeout). */
export class ServerUnreachableError extends Error {
  override name = "ServerUnreachableError";
  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`the Fleetwise server at ${url} did not answer`, options);
  }
}

/** The server answered 404 with its error body. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The server answered with an error status (its `{error:{code,message}}` body when it sent one). */
export class ServerError extends Error {
  override name = "ServerError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Retry-After in seconds (429 too_many_attempts) */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The server answered 403: the signed-in user's role may not do this (the server enforces every route). */
export class ForbiddenError extends ServerError {
  override name = "ForbiddenError";
  constructor(
    message: string,
    /** the signed-in user's role, when known */
    readonly role: string | null,
  ) {
    super(403, "forbidden", message);
  }
}

/** The server answered 2xx but the body does not match the protocol schema (version skew). */
export class InvalidResponseError extends Error {
  override name = "InvalidResponseError";
}

export type ApiError = ServerUnreachableError | NotFoundError | ServerError | InvalidResponseError;

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ServerUnreachableError || e instanceof NotFoundError || e instanceof ServerError || e instanceof InvalidResponseError;
}
