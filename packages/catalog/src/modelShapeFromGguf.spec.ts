import { describe, expect, it } from "vitest";
import { GgufShapeError, modelShapeFromGguf } from "./modelShapeFromGguf.js";

const llama = (over: Record<string, unknown> = {}) => ({
  general: { architecture: "llama", file_type: 15 },
  llama: { block_count: 32, embedding_length: 4096, vocab_size: 128256, attention: { head_count: 32, head_count_kv: 8 }, ...over },
});

describe("modelShapeFromGguf", () => {
  it.each([
    ["Llama 3 8B", llama(), { architecture: "llama", layers: 32, headCount: 32, kvHeads: 8, headDim: 128, embeddingLength: 4096, vocabSize: 128256 }],
    ["no head_count_kv: every head has its own K/V", llama({ attention: { head_count: 32 } }), { kvHeads: 32 }],
    ["explicit key_length wins over embd/heads", llama({ attention: { head_count: 32, head_count_kv: 8, key_length: 256 } }), { headDim: 256 }],
    ["per-layer head arrays: the largest layer", llama({ attention: { head_count: [32, 32], head_count_kv: [0, 8, 4] } }), { headCount: 32, kvHeads: 8 }],
    ["vocabulary from the token list when vocab_size is absent", { ...llama({ vocab_size: undefined }), tokenizer: { ggml: { tokens: ["a", "b", "c"] } } }, { vocabSize: 3 }],
    ["no vocabulary at all: 32000", llama({ vocab_size: undefined }), { vocabSize: 32000 }],
    ["another architecture's keys", { general: { architecture: "qwen2" }, qwen2: { block_count: 28, embedding_length: 3584, attention: { head_count: 28, head_count_kv: 4 } } }, { architecture: "qwen2", layers: 28, headDim: 128, kvHeads: 4 }],
  ])("%s", (_name, metadata, want) => {
    expect(modelShapeFromGguf(metadata)).toMatchObject(want);
  });

  it.each([
    ["no architecture", { llama: llama().llama }, /general\.architecture/],
    ["nothing at all", undefined, /general\.architecture/],
    ["no block count", llama({ block_count: undefined }), /llama\.block_count/],
    ["zero embedding length", llama({ embedding_length: 0 }), /llama\.embedding_length/],
    ["no heads", llama({ attention: {} }), /llama\.attention\.head_count/],
  ])("refuses metadata with %s", (_name, metadata, message) => {
    expect(() => modelShapeFromGguf(metadata)).toThrow(GgufShapeError);
    expect(() => modelShapeFromGguf(metadata)).toThrow(message);
  });
});
