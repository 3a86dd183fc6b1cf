import "server-only";
import type { z } from "zod";
import {
  formatIssues,
  ZBenchmarkListV1,
  ZBenchmarkRequestedV1,
  ZBenchmarkRequestV1,
  ZDeviceDetailV1,
  ZDeviceListV1,
  ZErrorBody,
  ZRuntimeMetricsViewV1,
  type TBenchmarkListV1,
  type TDeviceDetailV1,
  type TDeviceListQueryV1,
  type TDeviceListV1,
  type TRuntimeMetricsViewV1,
} from "@fleet/protocol";
import { consoleEnv } from "./env";
import { InvalidResponseError, NotFoundError, ServerError, ServerUnreachableError } from "./api-errors";

// Typed client for the server's REST API. Runs only on the console's server side, where the
// admin token lives; every response is parsed with its protocol schema before a page sees it.

const TIMEOUT_MS = 8_000;

async function call<S extends z.ZodType>(path: string, schema: S, init: { method?: string; body?: unknown } = {}): Promise<z.infer<S>> {
  const env = consoleEnv();
  const url = `${env.FLEET_SERVER_URL}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${env.FLEET_ADMIN_TOKEN}`,
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
    if (res.status === 404) throw new NotFoundError(message);
    throw new ServerError(res.status, code, message);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InvalidResponseError(`${init.method ?? "GET"} ${path}: ${formatIssues(parsed.error)}`);
  return parsed.data;
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
