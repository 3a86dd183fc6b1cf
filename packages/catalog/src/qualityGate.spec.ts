import { describe, expect, it } from "vitest";
import { differentSourceModel, evaluateQualityGate, type QualityScoreFacts, type QualityVariant } from "./qualityGate.js";

const margin = { maxPerplexityIncreasePct: 10, minTop1Agreement: 0.9 };
const current = { harnessVersion: "quality/1", textId: "fleetwise-prose-v1" };
const variant = (over: Partial<QualityVariant> = {}): QualityVariant => ({
  id: "q4", sourceRepository: "https://huggingface.co/org/model", architecture: "llama", parameterCount: 1_000_000, quantization: "Q4_K_M", state: "draft", ...over,
});
const f16 = variant({ id: "f16", quantization: "F16", state: "approved" });
const score = (over: Partial<QualityScoreFacts> = {}): QualityScoreFacts => ({
  perplexity: 11, top1Agreement: 0.95, referenceEntryId: "f16", referencePerplexity: 10.8, harnessVersion: "quality/1", textId: "fleetwise-prose-v1", ...over,
});

describe("evaluateQualityGate", () => {
  it.each([
    ["within both margins", variant(), score(), f16, null],
    ["exactly at the perplexity margin", variant(), score({ perplexity: 11.88 }), f16, null],
    ["exactly at the agreement minimum", variant(), score({ top1Agreement: 0.9 }), f16, null],
    ["perplexity beyond the margin says by how much", variant(), score({ perplexity: 14.2 }), f16, /^perplexity 14\.2 is 31\.5% above reference 10\.8; allowed 10%$/],
    ["agreement below the minimum says by how much", variant(), score({ top1Agreement: 0.62 }), f16, /^top-1 agreement with the reference 0\.620 is 0\.280 below the minimum 0\.900$/],
    ["both beyond: both reasons", variant(), score({ perplexity: 49439, referencePerplexity: 32178, top1Agreement: 0.33 }), f16, /perplexity 49439 is 53\.6% above reference 32178; allowed 10%; top-1 agreement .* 0\.570 below/],
    ["no score", variant(), null, f16, /no quality score/],
    ["an older harness", variant(), score({ harnessVersion: "quality/0" }), f16, /harness quality\/0.*measure it again/],
    ["another text", variant(), score({ textId: "other" }), f16, /text other/],
    ["reference gone", variant(), score(), null, /no longer exists/],
    ["reference revoked", variant(), score(), { ...f16, state: "revoked" }, /revoked/],
    ["another source repository", variant(), score(), { ...f16, sourceRepository: "https://huggingface.co/org/other" }, /not variants of the same source model \(source/],
    ["another parameter count", variant(), score(), { ...f16, parameterCount: 7 }, /parameters 1000000 vs 7/],
    ["another architecture", variant(), score(), { ...f16, architecture: "qwen2" }, /architecture llama vs qwen2/],
    ["a reference that is not reference-grade", variant(), score({ referenceEntryId: "q5" }), variant({ id: "q5", quantization: "Q5_K_M" }), /reference is Q5_K_M; a reference must be F32, F16, BF16, Q8_0/],
    ["F16 measured against itself is the reference", f16, score({ referenceEntryId: "f16", perplexity: 10.8, top1Agreement: 1 }), f16, null],
    ["Q8_0 measured against itself is a reference", variant({ id: "q8", quantization: "Q8_0" }), score({ referenceEntryId: "q8" }), variant({ id: "q8", quantization: "Q8_0" }), null],
    ["Q4_K_M cannot be its own reference", variant(), score({ referenceEntryId: "q4", perplexity: 11, referencePerplexity: 11, top1Agreement: 1 }), variant(), /a Q4_K_M entry cannot be its own reference/],
  ] as const)("%s", (_name, entry, s, reference, expected) => {
    const v = evaluateQualityGate({ entry, score: s, reference, margin, current });
    if (expected === null) expect(v).toEqual({ ok: true, reason: null });
    else {
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(expected);
    }
  });

  it("a lower perplexity than the reference is fine (only increases are limited)", () => {
    expect(evaluateQualityGate({ entry: variant(), score: score({ perplexity: 9 }), reference: f16, margin, current }).ok).toBe(true);
  });
});

describe("differentSourceModel", () => {
  it("ignores case, a trailing slash and .git in the repository", () => {
    expect(differentSourceModel(variant(), variant({ sourceRepository: "https://HuggingFace.co/org/model.git" }))).toBeNull();
    expect(differentSourceModel(variant(), variant({ sourceRepository: "https://huggingface.co/org/model/" }))).toBeNull();
  });
});
