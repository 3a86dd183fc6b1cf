/** Quantization facts a catalog entry records: type label, nominal bits per weight, weights per block. */
export interface QuantizationFacts {
  type: string;
  bits: number;
  /** weights per quantization block; null when the weights are plain floats */
  groupSize: number | null;
}

/** A file type the catalog does not know how to describe. */
export class UnknownQuantizationError extends Error {
  override name = "UnknownQuantizationError";
}

// llama.cpp's llama_ftype (GGUF general.file_type) -> label. Missing numbers were removed upstream.
const FILE_TYPES: Record<number, string> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
  12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
  19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
  26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
  36: "TQ1_0", 37: "TQ2_0",
};

// Nominal bits (the number in the name) and block size: legacy quants use blocks of 32, K-quants and
// the i-quants super-blocks of 256 (IQ4_NL keeps 32), ternary types 256.
const FACTS: Record<string, [bits: number, groupSize: number | null]> = {
  F32: [32, null], F16: [16, null], BF16: [16, null],
  Q4_0: [4, 32], Q4_1: [4, 32], Q5_0: [5, 32], Q5_1: [5, 32], Q8_0: [8, 32],
  Q2_K: [2, 256], Q2_K_S: [2, 256], Q3_K_S: [3, 256], Q3_K_M: [3, 256], Q3_K_L: [3, 256],
  Q4_K_S: [4, 256], Q4_K_M: [4, 256], Q5_K_S: [5, 256], Q5_K_M: [5, 256], Q6_K: [6, 256],
  IQ1_S: [1, 256], IQ1_M: [1, 256], IQ2_XXS: [2, 256], IQ2_XS: [2, 256], IQ2_S: [2, 256], IQ2_M: [2, 256],
  IQ3_XXS: [3, 256], IQ3_XS: [3, 256], IQ3_S: [3, 256], IQ3_M: [3, 256], IQ4_NL: [4, 32], IQ4_XS: [4, 256],
  TQ1_0: [1, 256], TQ2_0: [2, 256],
};

/**
 * Facts for a GGUF `general.file_type` number or a label ("Q4_K_M", "q8_0", node-llama-cpp's
 * "MOSTLY_Q4_K_M", "ALL_F32"). Throws UnknownQuantizationError for anything else.
 */
export function quantizationFacts(fileTypeOrLabel: number | string): QuantizationFacts {
  const label =
    typeof fileTypeOrLabel === "number"
      ? FILE_TYPES[fileTypeOrLabel]
      : fileTypeOrLabel.trim().toUpperCase().replace(/^(MOSTLY|ALL)_/, "");
  const facts = label === undefined ? undefined : FACTS[label];
  if (label === undefined || facts === undefined) {
    throw new UnknownQuantizationError(`unknown GGUF file type ${JSON.stringify(fileTypeOrLabel)}`);
  }
  return { type: label, bits: facts[0], groupSize: facts[1] };
}
