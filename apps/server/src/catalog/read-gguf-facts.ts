import { modelShapeFromGguf } from "@fleet/catalog";
import type { TModelShapeV1 } from "@fleet/protocol";

/** The file is not a GGUF model (or its header cannot be read): the import is refused. */
export class NotGgufError extends Error {
  override name = "NotGgufError";
}

export interface GgufFacts {
  architecture: string;
  /** GGUF general.file_type as node-llama-cpp names it, e.g. "MOSTLY_Q4_K_M"; null when absent */
  fileType: string | null;
  contextLength: number;
  parameterCount: number;
  tokenizer: string;
  license: string | null;
  /** the metadata object as node-llama-cpp reads it (for @fleet/catalog modelShapeFromGguf) */
  metadata: Record<string, unknown>;
  shape: TModelShapeV1;
}

// Large arrays the catalog never needs; skipping them keeps a 128k-vocab header read small.
const IGNORED_KEYS = ["tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"];

/** Read a GGUF header (no weights, no native code) and pull out what a catalog entry records. */
export async function readGgufFacts(file: string): Promise<GgufFacts> {
  // Imported on use: node-llama-cpp is large and only imports need it.
  const { GgufFileType, readGgufFileInfo } = await import("node-llama-cpp");
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(file, { sourceType: "filesystem", readTensorInfo: true, ignoreKeys: IGNORED_KEYS, logWarnings: false, spliceSplitFiles: false });
  } catch (err) {
    throw new NotGgufError(`not a readable GGUF file: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  const md = info.metadata as unknown as Record<string, unknown>;
  const general = obj(md.general);
  const architecture = str(general.architecture);
  if (!architecture) throw new NotGgufError("GGUF header has no general.architecture");
  const arch = obj(md[architecture]);
  const ggml = obj(obj(md.tokenizer).ggml);
  const fileTypeNum = num(general.file_type);
  const fileType = fileTypeNum === null ? null : ((GgufFileType as unknown as Record<number, string>)[fileTypeNum] ?? `UNKNOWN_${fileTypeNum}`);
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  let shape: TModelShapeV1;
  try {
    const g = modelShapeFromGguf(md);
    shape = { layers: g.layers, headCount: g.headCount, kvHeads: g.kvHeads, headDim: g.headDim, embeddingLength: g.embeddingLength, vocabSize: g.vocabSize };
  } catch (err) {
    throw new NotGgufError(`GGUF header is not usable: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  return {
    architecture: architecture.slice(0, 100),
    fileType,
    contextLength: num(arch.context_length) ?? 0,
    parameterCount: num(general.parameter_count) ?? countParameters(tensors),
    tokenizer: (str(ggml.model) ?? "unknown").slice(0, 100),
    license: str(general.license)?.slice(0, 500) ?? null,
    metadata: md,
    shape,
  };
}

function countParameters(tensors: readonly { dimensions: readonly (number | bigint)[] }[]): number {
  let total = 0;
  for (const t of tensors) total += t.dimensions.reduce<number>((n, d) => n * Number(d), 1);
  return total;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 ? v : null;
}
function num(v: unknown): number | null {
  const n = typeof v === "bigint" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : null;
}
