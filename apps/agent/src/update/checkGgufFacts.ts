import { UpdateFailure, type TGgufMetadataV1 } from "@fleet/protocol";
import { UpdateError } from "./UpdateError.js";

/** The facts of a TUF target's custom metadata this check reads (a subset of ZCatalogFactsV1, read leniently). */
interface TargetFacts {
  architecture?: unknown;
  parameterCount?: unknown;
  shape?: { layers?: unknown; headCount?: unknown; kvHeads?: unknown; embeddingLength?: unknown; vocabSize?: unknown };
}

/**
 * The downloaded file's GGUF header must describe the model the catalog approved under this name: architecture,
 * parameter count and shape. A valid GGUF of another model renamed to an approved target is refused here.
 */
export function checkGgufFacts(target: string, gguf: TGgufMetadataV1, custom: unknown): void {
  const facts = (custom && typeof custom === "object" ? custom : {}) as TargetFacts;
  const shape = facts.shape ?? {};
  const pairs: [string, unknown, unknown][] = [
    ["architecture", facts.architecture, gguf.architecture],
    ["parameterCount", facts.parameterCount, gguf.parameterCount],
    ["layers", shape.layers, gguf.blockCount],
    ["headCount", shape.headCount, gguf.headCount],
    ["kvHeads", shape.kvHeads, gguf.headCountKv ?? gguf.headCount],
    ["embeddingLength", shape.embeddingLength, gguf.embeddingLength],
    ["vocabSize", shape.vocabSize, gguf.vocabSize],
  ];
  if (facts.architecture === undefined || facts.parameterCount === undefined) {
    throw new UpdateError(UpdateFailure.MetadataInvalid, `${target}: the catalog target carries no model facts to check the file against`);
  }
  const wrong = pairs.filter(([, want, got]) => want !== undefined && want !== got).map(([k, want, got]) => `${k} ${String(got)} (catalog: ${String(want)})`);
  if (wrong.length > 0) throw new UpdateError(UpdateFailure.WrongModel, `${target} is not the approved model: ${wrong.join(", ")}`);
}
