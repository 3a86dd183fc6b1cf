import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZErrorBody, type TDeviceEventV1 } from "@fleet/protocol";
import { threadCandidates } from "@fleet/catalog";
import { InferenceRuntime } from "../runtime/InferenceRuntime.js";
import { ZLocalApiConfig } from "../runtime/config.js";
import { quietLogger, tempModelsDir, testRuntimeConfig } from "../runtime/testing/runtimeFixtures.js";
import { LocalApiServer } from "./LocalApiServer.js";
import { ApiExposureError } from "./ApiExposureError.js";

const TOKEN = "test-token-0123456789abcdef0123456789";
const api = (o: Record<string, unknown> = {}) => ZLocalApiConfig.parse({ port: 0, corsOrigins: ["https://app.example.com"], ...o });

async function expectError(res: Response, status: number, code: string, message?: RegExp) {
  expect(res.status).toBe(status);
  const body = ZErrorBody.parse(await res.json());
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

describe("local inference API (real runtime, tiny model)", () => {
  let dir: string;
  let runtime: InferenceRuntime;
  let server: LocalApiServer;
  let base: string;
  const events: TDeviceEventV1[] = [];

  beforeAll(async () => {
    dir = await tempModelsDir();
    // threads: null -> the runtime probes thread counts on this machine at load
    runtime = new InferenceRuntime({ config: testRuntimeConfig({ threads: null }), modelsDir: dir, logger: quietLogger(), gpu: false, onEvent: (e) => events.push(e) });
    await runtime.start();
    server = new LocalApiServer({ api: api({ maxTokens: 64, maxBodyBytes: 4096 }), token: () => TOKEN, backend: runtime, logger: quietLogger() });
    const addr = await server.start();
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await server.stop();
    await runtime.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const auth = { Authorization: `Bearer ${TOKEN}` };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  it("listens on 127.0.0.1 only by default", () => {
    expect(ZLocalApiConfig.parse({}).host).toBe("127.0.0.1");
    expect(server.address()?.address).toBe("127.0.0.1");
  });

  it("/health answers 503 while the model loads and 200 when ready", async () => {
    const before = await fetch(`${base}/health`, { headers: auth });
    expect(before.status).toBe(503);
    const loading = runtime.loadModel("tiny.gguf");
    while (runtime.status().state !== "loading") await new Promise((r) => setTimeout(r, 1));
    const during = await fetch(`${base}/health`, { headers: auth });
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ status: "loading" });
    expect((await loading).ok).toBe(true);
    const after = await fetch(`${base}/health`, { headers: auth });
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: "ready", model: "tiny.gguf" });
    // the thread count was probed per device and the choice reported
    const loaded = events.find((e) => e.kind === "model.loaded")!;
    const probe = loaded.data!.threadProbe as { threads: number; tokensPerSecond: number }[];
    expect(probe.map((p) => p.threads)).toEqual(threadCandidates(os.availableParallelism()));
    expect(probe.every((p) => p.tokensPerSecond > 0)).toBe(true);
    expect(probe.map((p) => p.threads)).toContain(loaded.data!.threads);
  });

  it("no token -> 401, wrong token -> 401", async () => {
    await expectError(await fetch(`${base}/v1/models`), 401, "unauthorized");
    await expectError(await fetch(`${base}/v1/models`, { headers: { Authorization: "Bearer wrong-token-0123456789" } }), 401, "unauthorized");
    await expectError(await fetch(`${base}/v1/models`, { headers: { Authorization: TOKEN } }), 401, "unauthorized");
  });

  it("a disallowed origin -> 403 with no CORS grant; an allowed one is granted", async () => {
    const bad = await fetch(`${base}/v1/models`, { headers: { ...auth, Origin: "https://evil.example.net" } });
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
    await expectError(bad, 403, "forbidden", /origin/);
    const good = await fetch(`${base}/v1/models`, { headers: { ...auth, Origin: "https://app.example.com" } });
    expect(good.status).toBe(200);
    expect(good.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const preflight = await fetch(`${base}/v1/chat/completions`, { method: "OPTIONS", headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" } });
    expect(preflight.status).toBe(204);
  });

  it("a non-loopback Host header is refused (DNS rebinding guard)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/v1/models`, { headers: { ...auth, Host: "attacker.example.com:80" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
    const ok = await fetch(`http://localhost:${server.address()!.port}/v1/models`, { headers: auth }).catch(() => null);
    if (ok) expect(ok.status).toBe(200); // localhost may resolve to ::1 first where nothing listens
  });

  it("GET /v1/models lists installed models by name", async () => {
    const res = await fetch(`${base}/v1/models`, { headers: auth });
    expect(await res.json()).toEqual({ object: "list", data: [{ id: "tiny.gguf", object: "model", created: 0, owned_by: "fleetwise", loaded: true }] });
  });

  it("bad JSON -> 400, unknown model -> 404, a path -> 400, too many tokens -> 400, oversized body -> 413", async () => {
    const badJson = await post("/v1/completions", "{not json");
    expect(((await badJson.clone().json()) as { error: { message: string } }).error.message).toBe("request body is not valid JSON"); // no parser text echoed
    await expectError(badJson, 400, "validation_failed", /not valid JSON/);
    await expectError(await post("/v1/completions", { model: "nope.gguf", prompt: "x" }), 404, "not_found", /not installed/);
    await expectError(await post("/v1/completions", { model: "/work/shared/models/llama-2-tiny-random.gguf", prompt: "x" }), 400, "validation_failed", /not a file path/);
    await expectError(await post("/v1/completions", { model: "../tiny.gguf", prompt: "x" }), 400, "validation_failed", /not a file path/);
    await expectError(await post("/v1/completions", { model: "tiny.gguf", prompt: "x", max_tokens: 65 }), 400, "validation_failed", /limit of 64/);
    await expectError(await post("/v1/chat/completions", { model: "tiny.gguf", messages: [] }), 400, "validation_failed", /messages/);
    await expectError(await post("/v1/completions", { model: "tiny.gguf", prompt: "x".repeat(5000) }), 413, "payload_too_large");
    await expectError(await fetch(`${base}/v1/nothing`, { headers: auth }), 404, "not_found");
  });

  it("completes without streaming and accepts the model name without .gguf", async () => {
    const res = await post("/v1/completions", { model: "tiny", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: { text: string; finish_reason: string }[]; usage: { completion_tokens: number; prompt_tokens: number } };
    expect(body.object).toBe("text_completion");
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("streams chat over SSE, and TTFT/TPOT are recorded and non-zero", async () => {
    runtime.takeMetrics();
    const res = await post("/v1/chat/completions", { model: "tiny.gguf", messages: [{ role: "user", content: "Say hello" }], max_tokens: 16, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter(Boolean).map((e) => e.replace(/^data: /, ""));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const content = chunks.flatMap((c) => c.choices).map((c: { delta: { content?: string } }) => c.delta.content ?? "").join("");
    expect(content.length).toBeGreaterThan(0);
    expect(chunks.at(-2).choices[0].finish_reason).toMatch(/stop|length/);
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
    const m = runtime.takeMetrics()!;
    const stats = m.models.find((s) => s.modelId === "tiny.gguf")!;
    expect(stats.requests).toBe(1);
    expect(stats.ttftMs!.p50).toBeGreaterThan(0);
    expect(stats.tpotMs!.p50).toBeGreaterThan(0);
  });

  it("a client that disconnects before its generation starts stops it (no run to max_tokens)", async () => {
    const long = new LocalApiServer({ api: api({ maxTokens: 4000 }), token: () => TOKEN, backend: runtime, logger: quietLogger() });
    const { port } = await long.start();
    try {
      runtime.takeMetrics();
      const body = JSON.stringify({ model: "tiny.gguf", prompt: "Go on forever:", max_tokens: 4000 });
      // send the whole request and leave at once: the server is still reading, parsing, resolving the model
      await new Promise<void>((resolve) => {
        const req = http.request({ host: "127.0.0.1", port, path: "/v1/completions", method: "POST", headers: { ...auth, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } });
        req.on("error", () => resolve());
        req.end(body, () => {
          req.destroy();
          resolve();
        });
      });
      // the next request runs after the first is over (one generation at a time in the host)
      const next = await fetch(`http://127.0.0.1:${port}/v1/completions`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ model: "tiny.gguf", prompt: "ok", max_tokens: 2 }) });
      expect(next.status).toBe(200);
      const stats = runtime.takeMetrics()!.models.find((m) => m.modelId === "tiny.gguf")!;
      // the abandoned request generated nothing, or was cancelled within a few tokens
      expect(stats.outputTokens).toBeLessThan(100);
    } finally {
      await long.stop();
    }
  });

  it("an oversized body gets its 413 response before the connection closes", async () => {
    const big = JSON.stringify({ model: "tiny.gguf", prompt: "x".repeat(2 * 1024 * 1024) });
    // declared length over the limit, and a body streamed without a length (chunked): both read as 413 by fetch
    await expectError(await post("/v1/completions", big), 413, "payload_too_large");
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < 64; i++) c.enqueue(new TextEncoder().encode("x".repeat(32 * 1024)));
        c.close();
      },
    });
    const res = await fetch(`${base}/v1/completions`, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: chunked, duplex: "half" } as RequestInit);
    await expectError(res, 413, "payload_too_large");
  });

  it("IPv4-mapped loopback (::ffff:127.0.0.1, in either spelling) is a loopback Host", async () => {
    for (const hostHeader of [`[::ffff:127.0.0.1]:${server.address()!.port}`, `[::ffff:7f00:1]:${server.address()!.port}`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${base}/v1/models`, { headers: { ...auth, Host: hostHeader } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
    }
  });

  it("a generation past the request timeout is stopped -> 504", async () => {
    const slow = new LocalApiServer({ api: api({ requestTimeoutMs: 100, maxTokens: 4000 }), token: () => TOKEN, backend: runtime, logger: quietLogger() });
    const { port } = await slow.start();
    try {
      const t0 = Date.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ model: "tiny.gguf", prompt: "Go on forever:", max_tokens: 4000 }),
      });
      await expectError(res, 504, "unavailable", /request timeout of 100 ms/);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await slow.stop();
    }
    // the runtime is free again
    expect((await post("/v1/completions", { model: "tiny.gguf", prompt: "ok", max_tokens: 2 })).status).toBe(200);
  });
});

describe("local API exposure and rate limit", () => {
  const backend = { status: () => ({ state: "idle" as const, activeModel: null, loadProgress: 0 }), servableModels: async () => [], generate: async () => Promise.reject(new Error("unused")) };

  it.each([
    ["0.0.0.0 without allowRemote", { host: "0.0.0.0" }, TOKEN, /not a loopback address/],
    ["0.0.0.0 with allowRemote but no token", { host: "0.0.0.0", allowRemote: true }, null, /no bearer token/],
    ["loopback without a token", {}, null, /no bearer token/],
  ])("refuses to start: %s", async (_n, cfg, token, message) => {
    const s = new LocalApiServer({ api: api(cfg), token: () => token, backend, logger: quietLogger() });
    await expect(s.start()).rejects.toThrow(ApiExposureError);
    await expect(s.start()).rejects.toThrow(message);
    expect(s.address()).toBeNull();
  });

  it("starts on 0.0.0.0 only with allowRemote and a token", async () => {
    const s = new LocalApiServer({ api: api({ host: "0.0.0.0", allowRemote: true }), token: () => TOKEN, backend, logger: quietLogger() });
    const addr = await s.start();
    expect(addr.address).toBe("0.0.0.0");
    // a remote bind has no loopback-Host rule, but the token still is required
    const res = await fetch(`http://127.0.0.1:${addr.port}/health`);
    expect(res.status).toBe(401);
    await s.stop();
  });

  it("requests without a valid token never use up the owner's budget; failed authentication is throttled on its own", async () => {
    const s = new LocalApiServer({ api: api({ rateLimitPerMinute: 3 }), token: () => TOKEN, backend, logger: quietLogger(), authFailuresPerMinute: 5 });
    const { port } = await s.start();
    try {
      const get = async (headers: Record<string, string> = {}) => {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { headers });
        await res.body?.cancel();
        return res.status;
      };
      const anonymous: number[] = [];
      for (let i = 0; i < 120; i++) anonymous.push(await get(i % 2 ? {} : { Authorization: "Bearer wrong-token-0123456789" }));
      expect(anonymous.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(anonymous.slice(5))).toEqual(new Set([429]));
      // the owner is not locked out: its token has its own budget (3 a minute here)
      const owner = [];
      for (let i = 0; i < 4; i++) owner.push(await get({ Authorization: `Bearer ${TOKEN}` }));
      expect(owner).toEqual([503, 503, 503, 429]);
    } finally {
      await s.stop();
    }
  });

  it("refuses cross-site browser requests (Sec-Fetch-Site) unless the origin is allowed", async () => {
    const s = new LocalApiServer({ api: api(), token: () => TOKEN, backend, logger: quietLogger() });
    const { port } = await s.start();
    try {
      const url = `http://127.0.0.1:${port}/health`;
      // what a page elsewhere loading <img src=…/health> sends: no Origin, Sec-Fetch-Site cross-site
      await expectError(await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}`, "Sec-Fetch-Site": "cross-site" } }), 403, "forbidden", /cross-site/);
      expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}`, "Sec-Fetch-Site": "cross-site", Origin: "https://app.example.com" } })).status).toBe(503);
      expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}`, "Sec-Fetch-Site": "same-origin" } })).status).toBe(503);
      expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}`, "Sec-Fetch-Site": "none" } })).status).toBe(503);
    } finally {
      await s.stop();
    }
  });

  it("a failed generation answers without file paths or the inner error text", async () => {
    const failing = {
      status: () => ({ state: "ready" as const, activeModel: "tiny.gguf", loadProgress: 1 }),
      servableModels: async () => [{ id: "tiny.gguf", path: "/secret/models/tiny.gguf", sizeBytes: 1, mtimeMs: 0 }],
      generate: async () => Promise.reject(new Error("ENOENT: no such file or directory, open '/secret/models/tiny.gguf'")),
    };
    const s = new LocalApiServer({ api: api(), token: () => TOKEN, backend: failing, logger: quietLogger() });
    const { port } = await s.start();
    try {
      for (const stream of [false, true]) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
          method: "POST",
          headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify({ model: "tiny.gguf", prompt: "x", stream }),
        });
        const text = await res.text();
        expect(text).toContain("generation failed");
        expect(text).not.toMatch(/secret|ENOENT|\.gguf'/);
      }
    } finally {
      await s.stop();
    }
  });

  it("rate limits per token -> 429 with Retry-After", async () => {
    const s = new LocalApiServer({ api: api({ rateLimitPerMinute: 3 }), token: () => TOKEN, backend, logger: quietLogger() });
    const { port } = await s.start();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
      await res.body?.cancel();
    }
    expect(statuses).toEqual([503, 503, 503, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    await s.stop();
  });
});
