/** KV cache element types llama.cpp supports for the cache, with their storage cost. */
export type KvCacheType = "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1";

// Quantized types store blocks of 32 elements; the per-element cost must include the block scale
// (node-llama-cpp's V1 estimator forgets this and overestimates q8_0 ~17x, see NOTES-llama).
const BYTES_PER_ELEMENT: Record<KvCacheType, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
  q4_1: 20 / 32,
  q5_0: 22 / 32,
  q5_1: 24 / 32,
};

export function bytesPerKvElement(type: KvCacheType): number {
  return BYTES_PER_ELEMENT[type];
}

export interface KvCacheShape {
  layers: number;
  contextSize: number;
  kvHeads: number;
  headDim: number;
  kvType?: KvCacheType;
}

/** layers x context x kvHeads x headDim x 2 (K and V) x bytes per element. */
export function kvCacheBytes({ layers, contextSize, kvHeads, headDim, kvType = "f16" }: KvCacheShape): number {
  return Math.ceil(layers * contextSize * kvHeads * headDim * 2 * bytesPerKvElement(kvType));
}
