import { catalogMemoryRequirement, quantizationFacts, UnknownQuantizationError } from "@fleet/catalog";
import { ZCatalogFactsV1, type TCatalogFactsV1, type TCatalogImportRequestV1 } from "@fleet/protocol";
import type { GgufFacts } from "./read-gguf-facts.js";

/** What the importer must fix (missing license, a quantization the catalog cannot describe): a 400. */
export class CatalogFactsError extends Error {
  override name = "CatalogFactsError";
}

function quantizationOf(fileType: string | null): TCatalogFactsV1["quantization"] {
  if (!fileType) throw new CatalogFactsError("the GGUF header has no general.file_type (quantization unknown)");
  try {
    return quantizationFacts(fileType);
  } catch (err) {
    if (err instanceof UnknownQuantizationError) throw new CatalogFactsError(err.message);
    throw err;
  }
}

/** The entry's facts: typed fields from the importer, the rest computed from the stored file. */
export function buildCatalogFacts(req: TCatalogImportRequestV1, gguf: GgufFacts, file: { sha256: string; sizeBytes: number }): TCatalogFactsV1 {
  const license = gguf.license ?? req.license;
  if (!license) throw new CatalogFactsError("the GGUF header names no license: give one in `license`");
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
    memory: { contextSize: req.memoryContextSize, ...catalogMemoryRequirement(gguf.shape, file.sizeBytes, req.memoryContextSize) },
    runtime: req.runtime ?? { minNodeLlamaCpp: null, minLlamaCppRelease: null },
  });
}
