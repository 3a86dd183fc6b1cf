import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, ADMIN_TOKEN, type TestServer } from "../testing/test-server.js";
import { MAX_BODY_BYTES } from "../app.js";
import { INVALID_TOKEN } from "../auth/auth.guard.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

describe("admin auth", () => {
  const routes: [string, string][] = [
    ["GET", "/api/v1/devices"],
    ["GET", "/api/v1/devices/x"],
    ["GET", "/api/v1/devices/x/inventory"],
    ["POST", "/api/v1/devices/x/revoke"],
    ["POST", "/api/v1/enrollment-tokens"],
    ["GET", "/api/v1/devices/x/runtime-metrics"],
    ["GET", "/api/v1/devices/x/benchmarks"],
    ["POST", "/api/v1/devices/x/benchmarks"],
  ];

  it.each(routes)("%s %s without a token: 401 missing bearer token", async (method, path) => {
    const res = await fetch(t.url + path, { method });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "missing bearer token" } });
  });

  it.each(routes)("%s %s with a wrong token: 401 invalid token", async (method, path) => {
    const res = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: INVALID_TOKEN } });
  });

  it("a non-Bearer scheme is refused", async () => {
    const res = await fetch(`${t.url}/api/v1/devices`, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(401);
  });

  it("enroll, health, metrics and the OpenAPI document need no token", async () => {
    expect((await fetch(`${t.url}/api/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(400);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/openapi.json`)).status).toBe(200);
  });
});

describe("HTTP surface", () => {
  it.each(["/", "/api/v1"])("%s (printed by pnpm start) names the API version, docs, OpenAPI, health and metrics", async (p) => {
    const res = await fetch(t.url + p);
    expect(res.status).toBe(200);
    const index = (await res.json()) as Record<string, string>;
    expect(index).toMatchObject({ apiVersion: "v1", api: "/api/v1", docs: "/api/docs", openapi: "/api/openapi.json", health: "/health", metrics: "/metrics" });
    // and each of them answers
    for (const link of [index.docs, index.openapi, index.health, index.metrics]) expect((await fetch(t.url + link!)).status, link).toBe(200);
  });

  it("/metrics carries the standard process and Node.js metrics and the ingest latency histogram", async () => {
    const text = await t.metrics();
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(text).toContain(`\n${name} `);
    }
    expect(text).toContain('# TYPE fleet_report_ingest_latency_seconds histogram');
    expect(text).toContain('fleet_report_ingest_latency_seconds_bucket{le="1",kind="heartbeat"} 0');
  });

  it("/health reports database and NATS", async () => {
    const res = await fetch(`${t.url}/health`);
    expect(await res.json()).toEqual({ status: "ok", checks: { database: { ok: true }, nats: { ok: true } } });
  });

  it("serves an OpenAPI document generated from the zod schemas, and the docs UI", async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, { minLength?: number }> }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/enroll", "/api/v1/enrollment-tokens", "/api/v1/devices", "/api/v1/devices/{id}", "/api/v1/devices/{id}/benchmarks", "/health"]),
    );
    expect(doc.components.schemas.EnrollRequestDto?.properties?.token?.minLength).toBe(16);
    // error bodies are documented too
    expect(doc.components.schemas.ErrorBodyDto).toBeDefined();
    const enroll401 = (doc.paths["/api/v1/enroll"]!.post as { responses: Record<string, { content: unknown }> }).responses["401"];
    expect(JSON.stringify(enroll401)).toContain("#/components/schemas/ErrorBodyDto");
    const ui = await fetch(`${t.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("swagger");
  });

  it("a zod failure gives 400 validation_failed with details", async () => {
    const res = await t.admin("/api/v1/enrollment-tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 5 }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string; code: string }[] } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details).toEqual([expect.objectContaining({ path: "ttlSeconds", code: "too_small" })]);
  });

  it("a query failure gives 400 too", async () => {
    const res = await t.admin("/api/v1/devices?status=sleeping");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe("status");
  });

  it("an oversized body gives 413 payload_too_large, bad JSON 400, unknown route 404", async () => {
    const big = JSON.stringify({ token: "x".repeat(MAX_BODY_BYTES + 10) });
    const res = await fetch(`${t.url}/api/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: "payload_too_large", message: "request body is too large" } });

    const bad = await fetch(`${t.url}/api/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: "validation_failed", message: "request body is not valid JSON" } });

    const missing = await t.admin("/api/v1/nothing-here");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
  });

  it("echoes a sane X-Request-Id and makes one up otherwise", async () => {
    const res = await fetch(`${t.url}/health`, { headers: { "x-request-id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
    const other = await fetch(`${t.url}/health`, { headers: { "x-request-id": "bad id with spaces" } });
    expect(other.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("/health is 503 when NATS is down, and recovers", async () => {
    await t.nats.stop();
    try {
      const res = await fetch(`${t.url}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "degraded", checks: { database: { ok: true }, nats: { ok: false, error: "unreachable" } } });
    } finally {
      await t.nats.start();
    }
    const { waitFor } = await import("@fleet/test-utils");
    await waitFor(async () => (await fetch(`${t.url}/health`)).status === 200, "health back to 200");
  });
});
