/** The margin an entry's quality must stay within, relative to its reference variant (server configuration). */
export interface QualityMargin {
  /** perplexity may be at most this many percent above the reference's */
  maxPerplexityIncreasePct: number;
  /** share of positions (0..1) whose top-1 next token must equal the reference's */
  minTop1Agreement: number;
}

/** What identifies a catalog entry as a variant of a source model. */
export interface QualityVariant {
  id: string;
  sourceRepository: string;
  architecture: string;
  parameterCount: number;
  /** GGUF file type, e.g. "F16", "Q8_0", "Q4_K_M" */
  quantization: string;
  state: string;
}

/** A recorded score (the fields the gate reads). */
export interface QualityScoreFacts {
  perplexity: number;
  top1Agreement: number;
  referenceEntryId: string;
  referencePerplexity: number;
  harnessVersion: string;
  textId: string;
}

export type QualityVerdict = { ok: true; reason: null } | { ok: false; reason: string };

/** Quantizations close enough to the source weights to be a reference for the others. */
export const REFERENCE_GRADE_QUANTIZATIONS = ["F32", "F16", "BF16", "Q8_0"] as const;

export function isReferenceGrade(quantization: string): boolean {
  return (REFERENCE_GRADE_QUANTIZATIONS as readonly string[]).includes(quantization.toUpperCase());
}

const normalizeRepo = (r: string) => r.trim().toLowerCase().replace(/\.git$/, "").replace(/\/+$/, "");

/** Why two entries are not variants of one source model (null = they are). Different source models are never compared. */
export function differentSourceModel(a: QualityVariant, b: QualityVariant): string | null {
  const diffs: string[] = [];
  if (normalizeRepo(a.sourceRepository) !== normalizeRepo(b.sourceRepository)) diffs.push(`source ${a.sourceRepository} vs ${b.sourceRepository}`);
  if (a.architecture !== b.architecture) diffs.push(`architecture ${a.architecture} vs ${b.architecture}`);
  if (a.parameterCount !== b.parameterCount) diffs.push(`parameters ${a.parameterCount} vs ${b.parameterCount}`);
  return diffs.length ? `not variants of the same source model (${diffs.join("; ")})` : null;
}

/** Readable perplexity: whole numbers when large, one or two decimals otherwise. */
export function formatPerplexity(p: number): string {
  return p >= 1000 ? p.toFixed(0) : p >= 10 ? p.toFixed(1) : p.toFixed(2);
}

const refuse = (reason: string): QualityVerdict => ({ ok: false, reason });

/** Why `reference` cannot be the reference of `entry` (null = it can): checked before measuring and again at approval. */
export function referenceRefusal(entry: QualityVariant, reference: QualityVariant): string | null {
  if (reference.state === "revoked") return `the reference entry ${reference.id} is revoked: measure against another reference`;
  const different = differentSourceModel(entry, reference);
  if (different) return `the reference is ${different}`;
  if (isReferenceGrade(reference.quantization)) return null;
  return reference.id === entry.id
    ? `a ${entry.quantization} entry cannot be its own reference: measure it against the ${REFERENCE_GRADE_QUANTIZATIONS.join("/")} variant of the same source model`
    : `the reference is ${reference.quantization}; a reference must be ${REFERENCE_GRADE_QUANTIZATIONS.join(", ")}`;
}

/**
 * May this entry be approved on its quality? It needs a score from the current harness and text, measured against a
 * reference-grade variant (F32/F16/BF16/Q8_0) of the same source model, within the margin. A reference-grade entry
 * measured against itself is the reference and passes; a lower quantization can never be its own reference.
 */
export function evaluateQualityGate(input: {
  entry: QualityVariant;
  score: QualityScoreFacts | null;
  /** the entry named by score.referenceEntryId (null = it no longer exists) */
  reference: QualityVariant | null;
  margin: QualityMargin;
  current: { harnessVersion: string; textId: string };
}): QualityVerdict {
  const { entry, score, reference, margin, current } = input;
  if (!score) return refuse("no quality score: measure it against a reference variant first (POST /api/v1/catalog/:id/quality, fleet-server catalog quality)");
  if (score.harnessVersion !== current.harnessVersion || score.textId !== current.textId) {
    return refuse(`quality was measured with harness ${score.harnessVersion} on text ${score.textId}; the current harness is ${current.harnessVersion} on ${current.textId}: measure it again`);
  }
  if (!reference) return refuse(`the reference entry ${score.referenceEntryId} no longer exists: measure against another reference`);
  const refused = referenceRefusal(entry, reference);
  if (refused) return refuse(refused);
  if (reference.id === entry.id) return { ok: true, reason: null };
  const problems: string[] = [];
  const increasePct = (score.perplexity / score.referencePerplexity - 1) * 100;
  // a hair of tolerance: 11.88 / 10.8 is 10.000000000000009 % in floating point
  if (increasePct > margin.maxPerplexityIncreasePct + 1e-9) {
    problems.push(`perplexity ${formatPerplexity(score.perplexity)} is ${increasePct.toFixed(1)}% above reference ${formatPerplexity(score.referencePerplexity)}; allowed ${margin.maxPerplexityIncreasePct}%`);
  }
  if (score.top1Agreement < margin.minTop1Agreement) {
    const by = margin.minTop1Agreement - score.top1Agreement;
    problems.push(`top-1 agreement with the reference ${score.top1Agreement.toFixed(3)} is ${by.toFixed(3)} below the minimum ${margin.minTop1Agreement.toFixed(3)}`);
  }
  return problems.length ? refuse(problems.join("; ")) : { ok: true, reason: null };
}
