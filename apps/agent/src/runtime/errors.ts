/** Named runtime errors; `code` is stable and maps to API statuses and event kinds. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The inference host process exited while work was pending. */
export class HostCrashedError extends RuntimeError {
  override name = "HostCrashedError";
  constructor(message: string) {
    super("host_crashed", message);
  }
}
