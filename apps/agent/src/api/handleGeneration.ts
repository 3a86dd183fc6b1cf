import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, errorBody } from "@fleet/protocol";
import type { Logger } from "../logger.js";
import type { LocalApiConfig } from "../runtime/config.js";
import type { GenerationInput } from "../runtime/InferenceRuntime.js";
import { RuntimeError } from "../runtime/errors.js";
import type { ApiBackend } from "./ApiBackend.js";
import { HttpError } from "./HttpError.js";
import { readJsonBody } from "./readJsonBody.js";
import { ZChatCompletionRequest, ZCompletionRequest } from "./openAiSchemas.js";
import { resolveRequestModel } from "./resolveRequestModel.js";
import { sendJson } from "./sendJson.js";

type Kind = "chat" | "completion";

function parse(kind: Kind, body: unknown) {
  const parsed = kind === "chat" ? ZChatCompletionRequest.safeParse(body) : ZCompletionRequest.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new HttpError(400, ErrorCode.ValidationFailed, `invalid request: ${issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`, issues);
  }
  return parsed.data;
}

/** POST /v1/chat/completions and /v1/completions, JSON or server-sent events. */
export async function handleGeneration(kind: Kind, req: IncomingMessage, res: ServerResponse, backend: ApiBackend, api: LocalApiConfig, logger: Logger): Promise<void> {
  // A client that goes away stops its generation, also when it leaves before the generation started (while
  // the body was read or the model resolved): so listen from the very start.
  const ctl = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) ctl.abort();
  });
  const body = parse(kind, await readJsonBody(req, api.maxBodyBytes));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? api.maxTokens;
  if (maxTokens > api.maxTokens) {
    throw new HttpError(400, ErrorCode.ValidationFailed, `max_tokens ${maxTokens} exceeds this device's limit of ${api.maxTokens}`);
  }
  const state = backend.status().state;
  if (state !== "ready") throw new HttpError(503, ErrorCode.Unavailable, `the runtime is ${state}; retry when GET /health answers 200`, undefined, { "Retry-After": "5" });
  const model = await resolveRequestModel(backend, body.model);

  const input: GenerationInput =
    "messages" in body
      ? { kind: "chat", messages: body.messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: m.content })) }
      : { kind: "completion", prompt: body.prompt };
  const sampling = {
    maxTokens,
    temperature: body.temperature,
    topP: body.top_p,
    seed: body.seed,
    stop: body.stop === undefined ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop],
  };

  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const object = kind === "chat" ? "chat.completion" : "text_completion";
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, api.requestTimeoutMs);

  const stream = body.stream === true;
  const sse = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: string | null, finish: string | null, first = false) =>
    kind === "chat"
      ? { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: delta === null ? {} : first ? { role: "assistant", content: delta } : { content: delta }, finish_reason: finish }] }
      : { id, object: "text_completion", created, model, choices: [{ index: 0, text: delta ?? "", logprobs: null, finish_reason: finish }] };
  if (ctl.signal.aborted) {
    clearTimeout(timer);
    return; // the client is gone: nobody to answer, nothing to generate
  }
  if (stream) {
    res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.flushHeaders();
  }
  let first = true;
  try {
    const r = await backend.generate(input, sampling, {
      signal: ctl.signal,
      onChunk: stream
        ? (text) => {
            sse(chunk(text, null, first));
            first = false;
          }
        : undefined,
    });
    if (timedOut) throw new HttpError(504, ErrorCode.Unavailable, `generation exceeded the request timeout of ${api.requestTimeoutMs} ms`);
    const finish = r.finishReason === "length" ? "length" : "stop";
    const usage = { prompt_tokens: r.promptTokens, completion_tokens: r.outputTokens, total_tokens: r.promptTokens + r.outputTokens };
    if (stream) {
      sse(chunk(null, finish));
      if (body.stream_options?.include_usage) sse({ id, object: `${object}.chunk`, created, model, choices: [], usage });
      res.end("data: [DONE]\n\n");
      return;
    }
    const choice = kind === "chat" ? { index: 0, message: { role: "assistant", content: r.text }, finish_reason: finish } : { index: 0, text: r.text, logprobs: null, finish_reason: finish };
    sendJson(res, 200, { id, object, created, model, choices: [choice], usage });
  } catch (err) {
    // Inner error text (paths, host messages) goes to the log only; the client gets a fixed sentence.
    if (!(err instanceof HttpError)) logger.error({ err }, "generation failed");
    const e =
      err instanceof HttpError
        ? err
        : err instanceof RuntimeError && err.code === "no_model"
          ? new HttpError(503, ErrorCode.Unavailable, "no model is loaded")
          : new HttpError(500, ErrorCode.Internal, "generation failed");
    if (!stream) throw e;
    // headers are sent: report the error in-band, as OpenAI-compatible servers do
    sse(errorBody(e.code, e.message));
    res.end("data: [DONE]\n\n");
  } finally {
    clearTimeout(timer);
  }
}
