import type { TModelShapeV1 } from "@fleet/protocol";

/** The planner's view of a GGUF file, plus the architecture name the shape was read under. */
export type GgufModelShape = TModelShapeV1 & { architecture: string };

/** The GGUF header lacks a fact the planner cannot do without (not a language model, or a damaged header). */
export class GgufShapeError extends Error {
  override name = "GgufShapeError";
}

type Value = number | number[] | undefined;
type ArchBlock = {
  block_count?: Value;
  embedding_length?: Value;
  vocab_size?: Value;
  attention?: { head_count?: Value; head_count_kv?: Value; key_length?: Value };
};

// Per-layer arrays (some architectures vary heads by layer): budget for the largest layer.
function largest(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (Array.isArray(v)) {
    const nums = v.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return nums.length > 0 ? Math.max(...nums) : undefined;
  }
  return undefined;
}

function positiveInt(name: string, v: number | undefined, arch: string): number {
  if (v === undefined || !Number.isInteger(v) || v <= 0) {
    throw new GgufShapeError(`GGUF metadata has no usable ${arch}.${name} (got ${JSON.stringify(v)})`);
  }
  return v;
}

/**
 * Shape numbers from GGUF metadata as node-llama-cpp's `readGgufFileInfo().metadata` returns it (nested:
 * `general.architecture`, `<arch>.block_count`, `<arch>.attention.head_count`, ...). Pure: the caller reads
 * the header. Throws GgufShapeError when the architecture, block count, embedding length or head count is missing.
 */
export function modelShapeFromGguf(metadata: unknown): GgufModelShape {
  const meta = (metadata ?? {}) as Record<string, unknown> & {
    general?: { architecture?: unknown };
    tokenizer?: { ggml?: { tokens?: unknown } };
  };
  const architecture = meta.general?.architecture;
  if (typeof architecture !== "string" || architecture.length === 0) {
    throw new GgufShapeError("GGUF metadata has no general.architecture");
  }
  const arch = (meta[architecture] ?? {}) as ArchBlock;
  const layers = positiveInt("block_count", largest(arch.block_count), architecture);
  const embeddingLength = positiveInt("embedding_length", largest(arch.embedding_length), architecture);
  const headCount = positiveInt("attention.head_count", largest(arch.attention?.head_count), architecture);
  // Grouped-query attention stores fewer K/V heads; without the key, every head has its own K/V.
  const kvHeads = largest(arch.attention?.head_count_kv) ?? headCount;
  const headDim = largest(arch.attention?.key_length) ?? Math.floor(embeddingLength / headCount);
  const tokens = meta.tokenizer?.ggml?.tokens;
  // The vocabulary sizes the logits buffer; 32000 (Llama 2) is the conservative common case when unstated.
  const vocabSize = largest(arch.vocab_size) ?? (Array.isArray(tokens) ? tokens.length : 32000);
  return { architecture, layers, headCount, kvHeads, headDim, embeddingLength, vocabSize };
}
