import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { UpdateFailure } from "@fleet/protocol";
import type { DeviceFetcher } from "./DeviceFetcher.js";
import { UpdateError } from "./UpdateError.js";

export interface DownloadOptions {
  url: string;
  /** the partial file; its size is the persisted offset a later attempt resumes from */
  partFile: string;
  length: number;
  fetcher: DeviceFetcher;
  stallTimeoutMs: number;
  onProgress(bytesDone: number): void;
  signal?: AbortSignal;
}

/**
 * Download into `partFile`, resuming from its current size with an HTTP Range request. Never writes past
 * `length`: a server that sends more is refused. A stall (no bytes for stallTimeoutMs) ends the attempt with
 * download_failed and keeps what arrived. Resolves when the file has exactly `length` bytes.
 */
export async function downloadResumable(opts: DownloadOptions): Promise<void> {
  let offset = await fs.stat(opts.partFile).then(
    (s) => s.size,
    () => 0,
  );
  if (offset > opts.length) {
    await fs.rm(opts.partFile, { force: true });
    offset = 0;
  }
  if (offset === opts.length) return;
  if (opts.signal?.aborted) throw new UpdateError(UpdateFailure.DownloadFailed, "download not started: the agent is stopping");
  const ctl = new AbortController();
  const abortOuter = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", abortOuter, { once: true });
  let stalled = false;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ctl.abort(new Error("stalled"));
    }, opts.stallTimeoutMs);
  };
  arm();
  const file = await fs.open(opts.partFile, offset > 0 ? "a" : "w", 0o600);
  try {
    let res: Response;
    try {
      res = await opts.fetcher.fetchFrom(opts.url, offset, ctl.signal);
    } catch (err) {
      throw new UpdateError(UpdateFailure.DownloadFailed, stalled ? `no answer from the server within ${opts.stallTimeoutMs} ms` : `download failed: ${(err as Error).message}`, { cause: err });
    }
    if (offset > 0 && res.status === 200) {
      // the server ignored the Range: start over rather than append the file to itself
      await file.truncate(0);
      offset = 0;
    } else if (!(res.status === 206 && offset > 0) && !(res.status === 200 && offset === 0)) {
      await res.body?.cancel().catch(() => {});
      throw new UpdateError(UpdateFailure.DownloadFailed, `artifact download answered HTTP ${res.status}`);
    }
    if (!res.body) throw new UpdateError(UpdateFailure.DownloadFailed, "artifact download has no body");
    let done = offset;
    const reader = res.body.getReader();
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (stalled) throw new UpdateError(UpdateFailure.DownloadFailed, `download stalled at ${done} of ${opts.length} bytes (no data for ${opts.stallTimeoutMs} ms); it resumes later`);
          throw new UpdateError(UpdateFailure.DownloadFailed, `download interrupted at ${done} of ${opts.length} bytes: ${(err as Error).message}`, { cause: err });
        }
        if (chunk.done) break;
        arm();
        if (done + chunk.value.length > opts.length) {
          ctl.abort(new Error("too long"));
          throw new UpdateError(UpdateFailure.HashMismatch, `the server sent more than the target's ${opts.length} bytes: refused`);
        }
        await file.write(chunk.value);
        done += chunk.value.length;
        opts.onProgress(done);
      }
    } finally {
      reader.releaseLock();
    }
    if (done !== opts.length) throw new UpdateError(UpdateFailure.DownloadFailed, `download ended at ${done} of ${opts.length} bytes; it resumes later`);
    await file.sync();
  } catch (err) {
    if (err instanceof UpdateError && err.code === UpdateFailure.HashMismatch) {
      await file.close().catch(() => {});
      await fs.rm(opts.partFile, { force: true });
    }
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", abortOuter);
    await file.close().catch(() => {});
  }
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await fs.open(file, "r");
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => {});
  }
  return hash.digest("hex");
}
