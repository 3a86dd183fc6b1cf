import type { IncomingMessage } from "node:http";
import { ErrorCode } from "@fleet/protocol";
import { HttpError } from "./HttpError.js";

/** Read a JSON body of at most `limit` bytes: 413 past the limit (checked before and while reading), 400 if not JSON. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpError(413, ErrorCode.PayloadTooLarge, `request body is ${declared} bytes; the limit is ${limit}`);
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new HttpError(400, ErrorCode.ValidationFailed, "Content-Type must be application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, ErrorCode.PayloadTooLarge, `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    // the parser's message quotes the body back; say what is wrong, not what was sent
    throw new HttpError(400, ErrorCode.ValidationFailed, "request body is not valid JSON");
  }
}
