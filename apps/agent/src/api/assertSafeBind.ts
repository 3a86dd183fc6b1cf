import type { LocalApiConfig } from "../runtime/config.js";
import { ApiExposureError } from "./ApiExposureError.js";
import { isLoopbackHost } from "./isLoopbackHost.js";

/**
 * Secure by default: a token is always required, and any non-loopback bind needs both the explicit
 * allowRemote flag and that token. Throws ApiExposureError saying why it will not start.
 */
export function assertSafeBind(api: LocalApiConfig, token: string | null): void {
  const remote = !isLoopbackHost(api.host);
  if (remote && !api.allowRemote) {
    throw new ApiExposureError(
      `refusing to bind the local inference API to ${api.host}: it is not a loopback address. ` +
        `Set runtime.api.allowRemote=true (and keep the bearer token secret) to expose it on the network, or bind 127.0.0.1.`,
    );
  }
  if (!token || token.length < 16) {
    throw new ApiExposureError(
      `refusing to start the local inference API on ${api.host}:${api.port}: no bearer token is configured ` +
        `(it is created at enrollment in state.json; run "fleet-agent enroll" or "fleet-agent token rotate").`,
    );
  }
}
