import type { GgufFileInfo } from "node-llama-cpp";
import type { ModelShape } from "@fleet/catalog";

type Num = number | undefined;

/** The planner's view of a model from its GGUF header (no weights read). */
export function modelShapeFromGguf(id: string, info: GgufFileInfo, fileSizeBytes: number): ModelShape {
  const arch = info.architectureMetadata as {
    block_count?: Num;
    embedding_length?: Num;
    attention?: { head_count?: Num | number[]; head_count_kv?: Num | number[]; key_length?: Num };
  };
  const first = (v: Num | number[]) => (Array.isArray(v) ? v[0] : v);
  const headCount = first(arch.attention?.head_count) ?? 1;
  const embeddingLength = arch.embedding_length ?? 0;
  const tokens = (info.metadata as unknown as { tokenizer?: { ggml?: { tokens?: unknown[] } } }).tokenizer?.ggml?.tokens;
  return {
    id,
    weightsBytes: fileSizeBytes,
    layers: arch.block_count ?? 0,
    headCount,
    kvHeads: first(arch.attention?.head_count_kv) ?? headCount,
    headDim: arch.attention?.key_length ?? (headCount > 0 ? Math.floor(embeddingLength / headCount) : 0),
    embeddingLength,
    // the output tensor's width would do too; 32000 (Llama 2) is the conservative common case
    vocabSize: Array.isArray(tokens) ? tokens.length : 32000,
  };
}
