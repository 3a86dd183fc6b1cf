import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from "@nestjs/common";
import { ZodValidationException } from "nestjs-zod";
import { ErrorCode, errorBody, type TErrorBody } from "@fleet/protocol";
import type { Logger } from "pino";
import { AppError } from "./app-error.js";
import { ERROR_STATUS, codeForStatus } from "./error-status.js";

interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): void;
  setHeader(name: string, value: string): void;
  headersSent?: boolean;
}

/** Map any thrown value to { status, errorBody }: the only place that decides what a client sees. */
export function toErrorResponse(err: unknown): { status: number; body: TErrorBody; unexpected: boolean } {
  if (err instanceof AppError) {
    return { status: ERROR_STATUS[err.code], body: errorBody(err.code, err.message, err.details), unexpected: false };
  }
  if (err instanceof ZodValidationException) {
    const zerr = err.getZodError() as { issues?: { path: PropertyKey[]; message: string; code: string }[] };
    const issues = (zerr?.issues ?? []).map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code }));
    const message = issues.length ? issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ") : "request validation failed";
    return { status: 400, body: errorBody(ErrorCode.ValidationFailed, message, issues), unexpected: false };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = codeForStatus(status);
    const message = status === 404 ? "no such route" : err.message;
    return { status, body: errorBody(code, message), unexpected: status >= 500 };
  }
  // body-parser errors carry a status and a type
  const e = err as { status?: number; statusCode?: number; type?: string } | null;
  const status = e?.status ?? e?.statusCode;
  if (e && typeof status === "number" && status >= 400 && status < 500) {
    if (e.type === "entity.too.large" || status === 413) {
      return { status: 413, body: errorBody(ErrorCode.PayloadTooLarge, "request body is too large"), unexpected: false };
    }
    if (e.type === "entity.parse.failed") {
      return { status: 400, body: errorBody(ErrorCode.ValidationFailed, "request body is not valid JSON"), unexpected: false };
    }
    return { status, body: errorBody(codeForStatus(status), "bad request"), unexpected: false };
  }
  return { status: 500, body: errorBody(ErrorCode.Internal, "internal error"), unexpected: true };
}

/** Global filter: errorBody for every failure, never a stack trace to the client. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== "http") return;
    const res = host.switchToHttp().getResponse<HttpResponse>();
    const req = host.switchToHttp().getRequest<{ id?: string; method?: string; url?: string }>();
    const { status, body, unexpected } = toErrorResponse(exception);
    if (unexpected) this.log.error({ err: exception, reqId: req.id, method: req.method, url: req.url }, "request failed");
    if (res.headersSent) return;
    // 429s from sign-in lockout say when to come back
    if (exception instanceof AppError && exception.retryAfterSec !== undefined) res.setHeader("Retry-After", String(exception.retryAfterSec));
    res.status(status).json(body);
  }
}
