import type { UpdateFailure } from "@fleet/protocol";

/** An install step that failed, with the stable code the "update" report carries. */
export class UpdateError extends Error {
  override name = "UpdateError";
  constructor(
    readonly code: UpdateFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
