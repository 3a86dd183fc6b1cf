import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough, Transform, Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ZSha256Hex } from "@fleet/protocol";

/** The upload went over the size limit; nothing was kept. */
export class ArtifactTooLargeError extends Error {
  override name = "ArtifactTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`upload exceeds the limit of ${limitBytes} bytes`);
  }
}

export function artifactsDir(dataDir: string): string {
  return path.join(dataDir, "artifacts");
}

/** `<dataDir>/artifacts/<sha256>`; refuses anything but a lowercase hex digest (never a path). */
export function artifactFile(dataDir: string, sha256: string): string {
  const digest = ZSha256Hex.parse(sha256);
  return path.join(artifactsDir(dataDir), digest);
}

/** A file written to the store's temp name, hashed and measured on the way; commit() or discard() it. */
export interface StagedArtifact {
  tempPath: string;
  sha256: string;
  sizeBytes: number;
  /** rename to artifacts/<sha256> (an identical file already there is kept) */
  commit(): Promise<string>;
  discard(): Promise<void>;
}

/**
 * Stream bytes into the content-addressed store: hash and count while writing a temp file in the same
 * directory (so the final rename is atomic), never holding the content in memory.
 */
export async function stageArtifact(dataDir: string, source: Readable, maxBytes: number): Promise<StagedArtifact> {
  const dir = artifactsDir(dataDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tempPath = path.join(dir, `.incoming-${randomUUID()}`);
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) return cb(new ArtifactTooLargeError(maxBytes));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  // Piped, not handed to pipeline(): a failure here must not destroy an HTTP request's socket before the
  // error answer (413) is written; the caller closes the connection instead.
  const input = new PassThrough();
  source.on("error", (err) => input.destroy(err));
  source.on("close", () => {
    if (!source.readableEnded) input.destroy(new Error("the upload was aborted before it ended"));
  });
  source.pipe(input);
  try {
    await pipeline(input, meter, await sparseFileSink(tempPath));
  } catch (err) {
    source.unpipe(input);
    await fs.rm(tempPath, { force: true });
    throw err;
  }
  const sha256 = hash.digest("hex");
  return {
    tempPath,
    sha256,
    sizeBytes: size,
    commit: async () => {
      const final = artifactFile(dataDir, sha256);
      await fs.rename(tempPath, final);
      return final;
    },
    discard: () => fs.rm(tempPath, { force: true }),
  };
}

const ZEROS = Buffer.alloc(1024 * 1024);

function allZero(chunk: Buffer): boolean {
  for (let off = 0; off < chunk.length; off += ZEROS.length) {
    const part = chunk.subarray(off, off + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * A new file (0600, must not exist) written chunk by chunk at its offset; all-zero chunks are skipped and left as
 * holes (the final truncate sets the length), so sparse GGUFs (synthetic models, padded tensors) stay sparse.
 */
async function sparseFileSink(file: string): Promise<Writable> {
  const fh = await fs.open(file, "wx", 0o600);
  let position = 0;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const at = position;
      position += chunk.length;
      if (allZero(chunk)) return cb();
      fh.write(chunk, 0, chunk.length, at).then(() => cb(), cb);
    },
    final(cb) {
      fh.truncate(position)
        .then(() => fh.sync())
        .then(() => fh.close())
        .then(() => cb(), cb);
    },
    destroy(err, cb) {
      fh.close().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}
