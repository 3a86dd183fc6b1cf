import { z } from "zod";
import { ZBytes, ZIsoDate, ZSha256Hex } from "./common.js";

// The approved model catalog: what an entry records about a quantized package (the seed's list), its states,
// and the REST shapes for importing and approving entries. The facts travel to devices as TUF target custom
// metadata, so they hold no non-integer numbers (canonical JSON forbids them).

/** Lowercase entry name: letters, digits, '.', '_', '-'; starts and ends with a letter or digit. */
export const ZCatalogName = z.string().regex(/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/, "name must be 1-64 of [a-z0-9._-], starting and ending with [a-z0-9]").refine((s) => !s.includes(".."), "name must not contain '..'");
export const ZCatalogVersion = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,30}[A-Za-z0-9])?$/, "version must be 1-32 of [A-Za-z0-9._+-]").refine((s) => !s.includes(".."), "version must not contain '..'");

const TARGET_PATH = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?-[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,30}[A-Za-z0-9])?\.gguf$/;
/** TUF target name (and file name on devices): `<name>-<version>.gguf`, never a path. */
export const ZTargetPath = z.string().max(110).regex(TARGET_PATH, "target must be <name>-<version>.gguf").refine((s) => !s.includes(".."), "target must not contain '..'");

export function targetPathOf(name: string, version: string): string {
  return ZTargetPath.parse(`${name}-${version}.gguf`);
}

export const CATALOG_STATES = ["draft", "approved", "deprecated", "revoked"] as const;
export const ZCatalogState = z.enum(CATALOG_STATES);
export type TCatalogState = z.infer<typeof ZCatalogState>;

/** GGUF shape numbers the memory planner needs (no weights). */
export const ZModelShapeV1 = z.object({
  layers: z.number().int().nonnegative(),
  headCount: z.number().int().nonnegative(),
  kvHeads: z.number().int().nonnegative(),
  headDim: z.number().int().nonnegative(),
  embeddingLength: z.number().int().nonnegative(),
  vocabSize: z.number().int().nonnegative(),
});
export type TModelShapeV1 = z.infer<typeof ZModelShapeV1>;

/** Runtime requirements declared on an entry (runtimes and models evolve independently). */
export const ZRuntimeRequirementsV1 = z.object({
  /** lowest node-llama-cpp version that loads it, e.g. "3.22.0" */
  minNodeLlamaCpp: z.string().max(32).nullable().default(null),
  /** lowest llama.cpp release (build tag, e.g. "b6000") that loads this architecture / quantization type */
  minLlamaCppRelease: z.string().max(32).nullable().default(null),
});
export type TRuntimeRequirementsV1 = z.infer<typeof ZRuntimeRequirementsV1>;

/** Everything the catalog knows about a package. Hash, size and GGUF facts are computed by the server, never typed. */
export const ZCatalogFactsV1 = z.object({
  name: ZCatalogName,
  version: ZCatalogVersion,
  source: z.object({ repository: z.string().min(1).max(500), revision: z.string().min(1).max(200) }),
  conversion: z.object({ method: z.string().min(1).max(500) }),
  quantization: z.object({
    /** e.g. "Q4_K_M", "Q8_0", "F16" (from the GGUF file type) */
    type: z.string().max(50),
    /** nominal bits per weight (4, 8, 16) */
    bits: z.number().int().positive(),
    /** weights per quantization group/block (32 for Q8_0, 256 for K-quants); null when not block-quantized */
    groupSize: z.number().int().positive().nullable(),
  }),
  architecture: z.string().max(100),
  tokenizer: z.string().max(100),
  license: z.string().max(500),
  contextLength: z.number().int().nonnegative(),
  parameterCount: z.number().int().nonnegative(),
  fileSizeBytes: ZBytes,
  sha256: ZSha256Hex,
  shape: ZModelShapeV1,
  /** memory it needs on a CPU-only device at the stated context (weights + KV cache + compute, no headroom) */
  memory: z.object({ contextSize: z.number().int().positive(), ramBytes: ZBytes, kvCacheBytes: ZBytes, computeBytes: ZBytes }),
  runtime: ZRuntimeRequirementsV1.default({ minNodeLlamaCpp: null, minLlamaCppRelease: null }),
});
export type TCatalogFactsV1 = z.infer<typeof ZCatalogFactsV1>;

/**
 * Quality of an entry against a reference variant of the same source model (contract 3): perplexity over the
 * project's fixed text and top-1 agreement of greedy next-token predictions with the reference. `withinMargin` and
 * `marginReason` are the server's current gate verdict (the margin is server configuration, so computed on read).
 */
export const ZCatalogQualityV1 = z.object({
  perplexity: z.number().positive(),
  /** share of positions (0..1) where this entry's top-1 next token equals the reference's */
  top1Agreement: z.number().min(0).max(1),
  /** the reference variant; equal to the entry's own id when it was measured as its own reference */
  referenceEntryId: z.uuid(),
  /** the reference's perplexity from the same run (same text, settings and harness) */
  referencePerplexity: z.number().positive(),
  harnessVersion: z.string(),
  textId: z.string(),
  textSha256: ZSha256Hex,
  /** tokens per scored window (BOS included) */
  contextSize: z.number().int().positive(),
  scoredTokens: z.number().int().positive(),
  settings: z.object({ threads: z.number().int().positive(), batchSize: z.number().int().positive(), gpuLayers: z.number().int().nonnegative(), sampling: z.literal("greedy") }),
  measuredAt: ZIsoDate,
  measuredBy: z.string(),
  withinMargin: z.boolean(),
  marginReason: z.string().nullable(),
});
export type TCatalogQualityV1 = z.infer<typeof ZCatalogQualityV1>;

export const ZCatalogEntryV1 = z.object({
  id: z.uuid(),
  state: ZCatalogState,
  targetPath: ZTargetPath,
  facts: ZCatalogFactsV1,
  createdAt: ZIsoDate,
  createdBy: z.string(),
  stateChangedAt: ZIsoDate,
  stateChangedBy: z.string(),
  stateReason: z.string().nullable(),
  /** null = never measured (optional: older servers do not send it) */
  quality: ZCatalogQualityV1.nullable().optional(),
});
export type TCatalogEntryV1 = z.infer<typeof ZCatalogEntryV1>;

/** What a person supplies on import; the rest is read from the file. `path` is a file on the server (admin only). */
export const ZCatalogImportRequestV1 = z.object({
  name: ZCatalogName,
  version: ZCatalogVersion,
  source: z.object({ repository: z.string().min(1).max(500), revision: z.string().min(1).max(200) }),
  conversion: z.object({ method: z.string().min(1).max(500) }),
  /** only when the GGUF header has no license */
  license: z.string().min(1).max(500).optional(),
  /** context at which the memory requirement is stated (default 4096) */
  memoryContextSize: z.number().int().min(128).max(1_048_576).default(4096),
  runtime: ZRuntimeRequirementsV1.optional(),
  /** absolute path of a GGUF file on the server; omit when uploading the bytes */
  path: z.string().min(1).max(4096).optional(),
});
export type TCatalogImportRequestV1 = z.infer<typeof ZCatalogImportRequestV1>;

/** approve | deprecate | revoke: a reason is always recorded (audited with who and when). */
export const ZCatalogTransitionRequestV1 = z.object({ reason: z.string().min(1).max(1000) });

export const ZCatalogListQueryV1 = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  state: ZCatalogState.optional(),
  name: ZCatalogName.optional(),
});

/** POST /api/v1/catalog/:id/quality: measure against a reference variant (its own id = measure it as the reference). */
export const ZCatalogQualityRequestV1 = z.object({ referenceEntryId: z.uuid() });
export type TCatalogQualityRequestV1 = z.infer<typeof ZCatalogQualityRequestV1>;

/** A quality measurement in progress or finished on this server instance (progress for the console and the CLI). */
export const ZCatalogQualityRunV1 = z.object({
  entryId: z.uuid(),
  referenceEntryId: z.uuid(),
  state: z.enum(["running", "succeeded", "failed"]),
  /** the model being evaluated now: the reference first, then the entry */
  phase: z.enum(["starting", "reference", "candidate", "done"]),
  tokensDone: z.number().int().nonnegative(),
  tokensTotal: z.number().int().nonnegative(),
  startedAt: ZIsoDate,
  finishedAt: ZIsoDate.nullable(),
  error: z.string().nullable(),
});
export type TCatalogQualityRunV1 = z.infer<typeof ZCatalogQualityRunV1>;

/** GET /api/v1/catalog/:id/quality: the recorded score and this instance's latest run for the entry. */
export const ZCatalogQualityStatusV1 = z.object({ quality: ZCatalogQualityV1.nullable(), run: ZCatalogQualityRunV1.nullable() });
export type TCatalogQualityStatusV1 = z.infer<typeof ZCatalogQualityStatusV1>;

/**
 * GET /api/v1/catalog/:id/variants: every quantization of the entry's source model (same source repository,
 * architecture and parameter count), side by side; entries of other source models are never in the list.
 */
export const ZCatalogVariantsV1 = z.object({
  sourceModel: z.object({ repository: z.string(), architecture: z.string(), parameterCount: z.number().int().nonnegative() }),
  items: z.array(
    z.object({
      entry: ZCatalogEntryV1,
      /** median tokens/s of the completed device benchmarks of this file; null = never benchmarked */
      speed: z.object({ tgTokensPerSecMedian: z.number().nullable(), ppTokensPerSecMedian: z.number().nullable(), runs: z.number().int().positive() }).nullable(),
    }),
  ),
});
export type TCatalogVariantsV1 = z.infer<typeof ZCatalogVariantsV1>;
