import "server-only";
import { cache } from "react";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { z } from "zod";
import {
  formatIssues,
  ZBenchmarkListV1,
  ZBenchmarkRequestedV1,
  ZBenchmarkRequestV1,
  ZDeviceDetailV1,
  ZDeviceListV1,
  ZAuditListV1,
  ZAuthMeV1,
  ZErrorBody,
  ZRuntimeMetricsViewV1,
  type TAuditListQueryV1,
  type TAuditListV1,
  type TAuthMeV1,
  type TBenchmarkListV1,
  type TDeviceDetailV1,
  type TDeviceListQueryV1,
  type TDeviceListV1,
  type TRuntimeMetricsViewV1,
} from "@fleet/protocol";
import { consoleEnv } from "./env";
import { ForbiddenError, InvalidResponseError, NotFoundError, ServerError, ServerUnreachableError } from "./api-errors";
import { searchString } from "./query";
import { loginHref } from "./safeNext";
import { sessionToken } from "./sessionCookie";
import { PATH_HEADER } from "./pathHeader";

// Typed client for the server's REST API. Runs only on the console's server side and acts as the
// signed-in user: the session token from the httpOnly `fleet_session` cookie is forwarded as the Bearer
// (the console holds no token of its own). Every response is parsed with its protocol schema.

const TIMEOUT_MS = 8_000;

export interface CallInit {
  method?: string;
  body?: unknown;
  /** "redirect" (default): a 401 sends the user to /login; "throw": the caller handles ServerError 401 */
  onUnauthorized?: "redirect" | "throw";
  /** false: send no session (sign-in, setup, OIDC) */
  auth?: boolean;
  /** extra request headers (sign-in forwards the browser's address for the server's per-address lockout) */
  headers?: Record<string, string>;
}

/** Where a 401 sends the user: sign-in, then back to the page they were on (set by proxy.ts). */
async function redirectToLogin(): Promise<never> {
  const path = (await headers()).get(PATH_HEADER) ?? "/";
  redirect(loginHref(path));
}

export async function call<S extends z.ZodType>(path: string, schema: S, init: CallInit = {}): Promise<z.infer<S>> {
  const env = consoleEnv();
  const url = `${env.FLEET_SERVER_URL}${path}`;
  const token = init.auth === false ? null : await sessionToken();
  if (init.auth !== false && !token) {
    if (init.onUnauthorized === "throw") throw new ServerError(401, "unauthorized", "not signed in");
    return redirectToLogin();
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        ...init.headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        accept: "application/json",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (cause) {
    throw new ServerUnreachableError(env.FLEET_SERVER_URL, { cause });
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // handled below: a non-JSON body is reported with its status
  }
  if (!res.ok) {
    const err = ZErrorBody.safeParse(json);
    const code = err.success ? err.data.error.code : `http_${res.status}`;
    const message = err.success ? err.data.error.message : `${res.status} ${res.statusText}`.trim();
    if (res.status === 401 && init.auth !== false && init.onUnauthorized !== "throw") return redirectToLogin();
    if (res.status === 403) throw new ForbiddenError(message, await roleOrNull());
    if (res.status === 404) throw new NotFoundError(message);
    const retryAfter = Number(res.headers.get("retry-after"));
    throw new ServerError(res.status, code, message, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
  }
  if (res.status === 204) return schema.parse(undefined);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InvalidResponseError(`${init.method ?? "GET"} ${path}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** The signed-in user (null when there is no valid session); one /auth/me call per request render. */
export const currentSession = cache(async (): Promise<TAuthMeV1 | null> => {
  try {
    return await call("/api/v1/auth/me", ZAuthMeV1, { onUnauthorized: "throw" });
  } catch (e) {
    if (e instanceof ServerError && e.status === 401) return null;
    throw e;
  }
});

async function roleOrNull(): Promise<string | null> {
  try {
    return (await currentSession())?.user.role ?? null;
  } catch {
    return null;
  }
}

/** Query string for the device list, dropping empty values so URLs stay clean. */
export function deviceListSearch(query: Partial<TDeviceListQueryV1>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

const enc = encodeURIComponent;

export function listDevices(query: Partial<TDeviceListQueryV1>): Promise<TDeviceListV1> {
  return call(`/api/v1/devices${deviceListSearch(query)}`, ZDeviceListV1);
}

export function getDevice(id: string): Promise<TDeviceDetailV1> {
  return call(`/api/v1/devices/${enc(id)}`, ZDeviceDetailV1);
}

export function getRuntimeMetrics(id: string): Promise<TRuntimeMetricsViewV1> {
  return call(`/api/v1/devices/${enc(id)}/runtime-metrics`, ZRuntimeMetricsViewV1);
}

export function getBenchmarks(id: string): Promise<TBenchmarkListV1> {
  return call(`/api/v1/devices/${enc(id)}/benchmarks`, ZBenchmarkListV1);
}

export function requestBenchmark(id: string, request: z.input<typeof ZBenchmarkRequestV1>): Promise<z.infer<typeof ZBenchmarkRequestedV1>> {
  return call(`/api/v1/devices/${enc(id)}/benchmarks`, ZBenchmarkRequestedV1, { method: "POST", body: ZBenchmarkRequestV1.parse(request) });
}

export function listAudit(query: Partial<TAuditListQueryV1>): Promise<TAuditListV1> {
  return call(`/api/v1/audit${searchString(query)}`, ZAuditListV1);
}

/**
 * X-Forwarded-For for sign-in calls: the browser's address as this console saw it (Next fills it from the socket
 * when no proxy in front set it), so the server, which trusts X-Forwarded-For from the console's address, locks out
 * per browser address rather than the console's. Behind a reverse proxy, that proxy must set it.
 */
export async function clientAddressHeaders(): Promise<Record<string, string>> {
  const xff = (await headers()).get("x-forwarded-for");
  return xff ? { "x-forwarded-for": xff } : {};
}
