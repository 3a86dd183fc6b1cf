/** Named errors the agent throws; the CLI prints `message` and, for config errors, every issue. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class StateError extends Error {
  override name = "StateError";
}

export class NotEnrolledError extends StateError {
  override name = "NotEnrolledError";
}

export class AlreadyEnrolledError extends StateError {
  override name = "AlreadyEnrolledError";
}

/** The server answered an enrollment with an error body, or something that is not a valid response. */
export class EnrollmentError extends Error {
  override name = "EnrollmentError";
  constructor(
    message: string,
    readonly code: string,
    readonly httpStatus: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class QueueError extends Error {
  override name = "QueueError";
}
