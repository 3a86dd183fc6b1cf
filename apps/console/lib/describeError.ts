import { ConsoleConfigError } from "./env";
import { ForbiddenError, InvalidResponseError, NotFoundError, ServerError, ServerUnreachableError } from "./api-errors";

export interface ErrorDescription {
  title: string;
  message: string;
  hint: string | null;
}

/** Turn a failed server call into words for an error panel; unknown errors are rethrown to the error boundary. */
export function describeError(e: unknown): ErrorDescription {
  if (e instanceof ServerUnreachableError) {
    return {
      title: "Fleetwise server unreachable",
      message: `The console could not reach the server at ${e.url}.`,
      hint: "Check that fleet-server is running and that FLEET_SERVER_URL points at it.",
    };
  }
  if (e instanceof ConsoleConfigError) {
    return { title: "Console is not configured", message: e.message, hint: "Set the variables in the console's environment and restart it." };
  }
  if (e instanceof ForbiddenError) {
    return {
      title: e.role ? `Your role (${e.role}) cannot do this` : "Your role cannot do this",
      message: e.message,
      hint: "Ask an admin for a role that may do this (viewer: read only; operator: rollouts, benchmarks, device actions; admin: everything).",
    };
  }
  if (e instanceof ServerError && e.status === 401) {
    return { title: "Your session has ended", message: e.message, hint: "Sign in again." };
  }
  if (e instanceof ServerError && e.status === 429) {
    return {
      title: "Too many attempts",
      message: e.retryAfterSeconds ? `Try again in ${formatWait(e.retryAfterSeconds)}.` : "Try again later.",
      hint: null,
    };
  }
  if (e instanceof ServerError) {
    return { title: `The server answered ${e.status} (${e.code})`, message: e.message, hint: null };
  }
  if (e instanceof NotFoundError) {
    return { title: "Not found", message: e.message, hint: null };
  }
  if (e instanceof InvalidResponseError) {
    return {
      title: "Unexpected answer from the server",
      message: e.message,
      hint: "The server and console may run different protocol versions.",
    };
  }
  throw e;
}

/** "45 s", "3 min" */
export function formatWait(seconds: number): string {
  return seconds < 90 ? `${Math.ceil(seconds)} s` : `${Math.ceil(seconds / 60)} min`;
}
