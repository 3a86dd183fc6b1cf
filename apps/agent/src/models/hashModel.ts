import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

/** sha256 of a file, streamed in 1 MiB chunks: never holds the model in memory, never blocks the event loop. */
export async function hashModel(file: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash, { signal: opts.signal });
  return hash.digest("hex");
}
