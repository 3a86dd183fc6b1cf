import type { ServerResponse } from "node:http";
import { errorBody } from "@fleet/protocol";
import type { HttpError } from "./HttpError.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) return void res.end();
  sendJson(res, err.status, errorBody(err.code, err.message, err.details), err.headers);
}
