export interface ComputeShape {
  contextSize: number;
  headCount: number;
  embeddingLength: number;
  vocabSize: number;
  /** llama.cpp's micro-batch; 512 by default */
  ubatch?: number;
}

/**
 * Rough size of llama.cpp's compute (scratch) buffers. The attention score matrix (ubatch x ctx x heads,
 * f32) dominates at long contexts; activations and one row of logits per batch token the rest. Calibrated
 * against the "compute buffer size" llama.cpp prints: ~0.6 GB for an 8B model at ctx 8192 on CPU.
 */
export function computeBufferBytes({ contextSize, headCount, embeddingLength, vocabSize, ubatch = 512 }: ComputeShape): number {
  const attention = ubatch * contextSize * headCount * 4;
  const activations = ubatch * embeddingLength * 4 * 8;
  const logits = vocabSize * 4 * 8;
  return attention + activations + logits;
}
