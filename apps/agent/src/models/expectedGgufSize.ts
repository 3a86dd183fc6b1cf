/**
 * ggml tensor types -> [bytes per block, elements per block] (ggml.c type_traits). Only used to tell how long a
 * GGUF must be; a type missing here is checked by its offset alone.
 */
const TYPE_SIZES: Record<number, [number, number]> = {
  0: [4, 1], // F32
  1: [2, 1], // F16
  2: [18, 32], // Q4_0
  3: [20, 32], // Q4_1
  6: [22, 32], // Q5_0
  7: [24, 32], // Q5_1
  8: [34, 32], // Q8_0
  9: [36, 32], // Q8_1
  10: [84, 256], // Q2_K
  11: [110, 256], // Q3_K
  12: [144, 256], // Q4_K
  13: [176, 256], // Q5_K
  14: [210, 256], // Q6_K
  15: [292, 256], // Q8_K
  16: [66, 256], // IQ2_XXS
  17: [74, 256], // IQ2_XS
  18: [98, 256], // IQ3_XXS
  19: [50, 256], // IQ1_S
  20: [18, 32], // IQ4_NL
  21: [110, 256], // IQ3_S
  22: [82, 256], // IQ2_S
  23: [136, 256], // IQ4_XS
  24: [1, 1], // I8
  25: [2, 1], // I16
  26: [4, 1], // I32
  27: [8, 1], // I64
  28: [8, 1], // F64
  29: [56, 256], // IQ1_M
  30: [2, 1], // BF16
  34: [54, 256], // TQ1_0
  35: [66, 256], // TQ2_0
};

export interface TensorExtent {
  dimensions: readonly (number | bigint)[];
  ggmlType: number;
  fileOffset: number | bigint;
}

/**
 * The least number of bytes a GGUF with these tensors must have: the end of its last tensor. node-llama-cpp's
 * header reader does not notice a file cut short (it reads zeros past the end), so scanning compares this with
 * the real size to catch partial downloads and truncated copies.
 */
export function expectedGgufSize(headerEnd: number, tensors: readonly TensorExtent[]): number {
  let end = headerEnd;
  for (const t of tensors) {
    const offset = Number(t.fileOffset);
    const size = TYPE_SIZES[t.ggmlType];
    let bytes = 1; // unknown type: at least its first byte must exist
    if (size) {
      let elements = 1;
      for (const d of t.dimensions) elements *= Number(d);
      bytes = Math.ceil(elements / size[1]) * size[0];
    }
    end = Math.max(end, offset + bytes);
  }
  return end;
}
