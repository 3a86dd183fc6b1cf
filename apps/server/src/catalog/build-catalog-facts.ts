import { computeBufferBytes, kvCacheBytes } from "@fleet/catalog";
import { ZCatalogFactsV1, type TCatalogFactsV1, type TCatalogImportRequestV1, type TModelShapeV1 } from "@fleet/protocol";
import type { GgufFacts } from "./read-gguf-facts.js";

export class MissingLicenseError extends Error {
  override name = "MissingLicenseError";
}

/** "MOSTLY_Q4_K_M" -> type Q4_K_M, 4 bits, groups of 256. */
export function quantizationOf(fileType: string | null): TCatalogFactsV1["quantization"] {
  const type = (fileType ?? "UNKNOWN").replace(/^(MOSTLY|ALL)_/, "");
  const float = /^(BF|F)(16|32)$/.exec(type);
  if (float) return { type, bits: Number(float[2]), groupSize: null };
  const bits = Number(/^I?Q(\d)/.exec(type)?.[1] ?? 0) || 16;
  // K-quants and i-quants use 256-weight super-blocks; the legacy Qn_m formats 32-weight blocks.
  const groupSize = /_K|^IQ/.test(type) ? 256 : /^Q\d_\d/.test(type) ? 32 : null;
  return { type, bits, groupSize };
}

/** weights + f16 KV cache + compute at the stated context, on a CPU-only device, no headroom. */
export function memoryRequirement(shape: TModelShapeV1, fileSizeBytes: number, contextSize: number): TCatalogFactsV1["memory"] {
  const kv = kvCacheBytes({ layers: shape.layers, contextSize, kvHeads: shape.kvHeads, headDim: shape.headDim });
  const compute = computeBufferBytes({ contextSize, headCount: shape.headCount, embeddingLength: shape.embeddingLength, vocabSize: shape.vocabSize });
  return { contextSize, ramBytes: fileSizeBytes + kv + compute, kvCacheBytes: kv, computeBytes: compute };
}

/** The entry's facts: typed fields from the importer, the rest computed from the stored file. */
export function buildCatalogFacts(req: TCatalogImportRequestV1, gguf: GgufFacts, file: { sha256: string; sizeBytes: number }): TCatalogFactsV1 {
  const license = gguf.license ?? req.license;
  if (!license) throw new MissingLicenseError("the GGUF header names no license: give one in `license`");
  return ZCatalogFactsV1.parse({
    name: req.name,
    version: req.version,
    source: req.source,
    conversion: req.conversion,
    quantization: quantizationOf(gguf.fileType),
    architecture: gguf.architecture,
    tokenizer: gguf.tokenizer,
    license,
    contextLength: gguf.contextLength,
    parameterCount: gguf.parameterCount,
    fileSizeBytes: file.sizeBytes,
    sha256: file.sha256,
    shape: gguf.shape,
    memory: memoryRequirement(gguf.shape, file.sizeBytes, req.memoryContextSize),
    runtime: req.runtime ?? { minNodeLlamaCpp: null, minLlamaCppRelease: null },
  });
}
