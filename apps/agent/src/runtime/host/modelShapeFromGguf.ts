import type { GgufFileInfo } from "node-llama-cpp";
import { modelShapeFromGguf as shapeOf, type ModelShape } from "@fleet/catalog";

/**
 * The planner's view of a local model from its GGUF header (no weights read). The shape rules live in
 * @fleet/catalog so the agent and the server's fleet compatibility read a header the same way; this adds
 * the local id and the file size. Throws GgufShapeError when the header lacks the numbers a plan needs.
 */
export function modelShapeFromGguf(id: string, info: GgufFileInfo, fileSizeBytes: number): ModelShape {
  const s = shapeOf(info.metadata);
  return { id, weightsBytes: fileSizeBytes, layers: s.layers, headCount: s.headCount, kvHeads: s.kvHeads, headDim: s.headDim, embeddingLength: s.embeddingLength, vocabSize: s.vocabSize };
}
