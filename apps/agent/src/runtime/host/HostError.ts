/** A failure inside the inference host, with a stable code the agent maps to events and HTTP statuses. */
export class HostError extends Error {
  override name = "HostError";
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function describeHostError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
