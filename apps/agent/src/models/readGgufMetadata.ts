import type { readGgufFileInfo as ReadGgufFileInfo } from "node-llama-cpp";
import fs from "node:fs/promises";
import type { TGgufMetadataV1 } from "@fleet/protocol";
import { expectedGgufSize } from "./expectedGgufSize.js";

export class GgufReadError extends Error {
  override name = "GgufReadError";
}

// Large arrays we never report; skipping them keeps a 128k-vocab header read small.
const IGNORED_KEYS = ["tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"];

/** Read what the GGUF header says about a model, without loading it. Throws GgufReadError if the header is unreadable. */
export async function readGgufMetadata(file: string, opts: { checkLength?: boolean } = {}): Promise<TGgufMetadataV1> {
  // Imported on use: node-llama-cpp adds ~35 MB to a process, and the agent service reads headers in a child
  // (readGgufMetadataIsolated), so merely importing this module must not load it.
  const { GgufFileType, readGgufFileInfo } = await import("node-llama-cpp");
  let info: Awaited<ReturnType<typeof ReadGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(file, {
      sourceType: "filesystem",
      readTensorInfo: true,
      ignoreKeys: IGNORED_KEYS,
      logWarnings: false,
      spliceSplitFiles: false,
    });
  } catch (err) {
    throw new GgufReadError(`cannot read GGUF header of ${file}: ${(err as Error).message}`, { cause: err });
  }
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  const { size } = await fs.stat(file);
  const needed = expectedGgufSize(Number(info.infoEndOffset ?? 0), tensors);
  if (opts.checkLength !== false && needed > size) {
    throw new GgufReadError(`GGUF ${file} is truncated: its header describes ${needed} bytes, the file has ${size}`);
  }
  const md = info.metadata as unknown as Record<string, unknown>;
  const general = obj(md.general);
  const architecture = str(general.architecture);
  const arch = architecture ? obj(md[architecture]) : {};
  const attention = obj(arch.attention);
  const ggml = obj(obj(md.tokenizer).ggml);
  const fileTypeNum = num(general.file_type);
  const fileType = fileTypeNum === null ? null : ((GgufFileType as unknown as Record<number, string>)[fileTypeNum] ?? `UNKNOWN_${fileTypeNum}`);
  const tokens = ggml.tokens;
  return {
    ggufVersion: num(info.version),
    name: str(general.name)?.slice(0, 500) ?? null,
    architecture: architecture?.slice(0, 100) ?? null,
    fileType,
    quantization: fileType ? quantizationLabel(fileType) : null,
    parameterCount: num(general.parameter_count) ?? countParameters(tensors),
    contextLength: int(arch.context_length),
    blockCount: int(arch.block_count),
    embeddingLength: int(arch.embedding_length),
    headCount: int(attention.head_count),
    headCountKv: int(attention.head_count_kv),
    tokenizer: str(ggml.model)?.slice(0, 100) ?? null,
    vocabSize: int(arch.vocab_size) ?? (Array.isArray(tokens) ? tokens.length : null),
    license: str(general.license)?.slice(0, 500) ?? null,
  };
}

/** "MOSTLY_Q4_K_M" -> "Q4_K_M", "ALL_F32" -> "F32". */
export function quantizationLabel(fileType: string): string {
  return fileType.replace(/^(MOSTLY|ALL)_/, "");
}

function countParameters(tensors: readonly { dimensions: readonly (number | bigint)[] }[] | undefined): number | null {
  if (!tensors?.length) return null;
  let total = 0;
  for (const t of tensors) {
    let n = 1;
    for (const d of t.dimensions) n *= Number(d);
    total += n;
  }
  return total;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
function num(v: unknown): number | null {
  if (typeof v === "bigint") return Number(v);
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null;
}
function int(v: unknown): number | null {
  const n = num(v);
  return n !== null && Number.isInteger(n) ? n : null;
}
