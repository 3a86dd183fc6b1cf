import fs from "node:fs";
import { evaluateQualityGate, referenceRefusal, type QualityVariant, type QualityVerdict } from "@fleet/catalog";
import { ZCatalogFactsV1 } from "@fleet/protocol";
import type { QualityConfig } from "../../common/env.js";
import { artifactFile } from "../artifact-store.js";
import type { CatalogEntryRow } from "../catalog.repository.js";
import { HARNESS_BATCH_SIZE, HARNESS_CONTEXT_SIZE, HARNESS_VERSION, TEXT_ID, TEXT_SHA256, verifiedQualityText } from "./quality-harness.js";
import type { CatalogQualityRow, QualityRecord } from "./quality.repository.js";
import { runQualityWorker, type QualityProgress } from "./run-quality-worker.js";

/** A measurement that must not start: the reason is for the person who asked (409). */
export class QualityRefusedError extends Error {
  override name = "QualityRefusedError";
}

/** The gate's view of an entry row (source repository from its facts). */
export function qualityVariantOf(row: CatalogEntryRow): QualityVariant {
  const facts = ZCatalogFactsV1.parse(row.facts);
  return { id: row.id, sourceRepository: facts.source.repository, architecture: row.architecture, parameterCount: Number(row.parameterCount), quantization: row.quantization, state: row.state };
}

/** The gate's verdict on an entry's recorded score (null = never measured) against the configured margin. */
export function qualityVerdict(entry: CatalogEntryRow, score: CatalogQualityRow | null, reference: CatalogEntryRow | null, config: QualityConfig): QualityVerdict {
  return evaluateQualityGate({
    entry: qualityVariantOf(entry),
    score,
    reference: reference ? qualityVariantOf(reference) : null,
    margin: { maxPerplexityIncreasePct: config.maxPerplexityIncreasePct, minTop1Agreement: config.minTop1Agreement },
    current: { harnessVersion: HARNESS_VERSION, textId: TEXT_ID },
  });
}

/** Refuse before spending minutes: not a variant of the same source model, a revoked or non-reference-grade reference, files gone. */
export function checkMeasurable(entry: CatalogEntryRow, reference: CatalogEntryRow, dataDir: string): { candidatePath: string; referencePath: string } {
  const refused = referenceRefusal(qualityVariantOf(entry), qualityVariantOf(reference));
  if (refused) throw new QualityRefusedError(refused);
  if (entry.state === "revoked") throw new QualityRefusedError(`entry ${entry.id} is revoked`);
  const candidatePath = artifactFile(dataDir, entry.sha256);
  const referencePath = artifactFile(dataDir, reference.sha256);
  for (const [which, file] of [["entry", candidatePath], ["reference", referencePath]] as const) {
    if (!fs.existsSync(file)) throw new QualityRefusedError(`the ${which}'s file is not in the artifact store (${which === "entry" ? entry.sha256 : reference.sha256})`);
  }
  return { candidatePath, referencePath };
}

/**
 * Measure `entry` against `reference` in a child process with the harness's fixed settings and record the score
 * (audited). The same entry as reference = one pass, agreement 1: how a reference variant gets its score.
 */
export async function measureEntryQuality(input: {
  entry: CatalogEntryRow;
  reference: CatalogEntryRow;
  dataDir: string;
  config: QualityConfig;
  actor: string;
  repo: { save(record: QualityRecord, actor: string): Promise<CatalogQualityRow>; recordFailure(entryId: string, referenceEntryId: string, error: string, actor: string): Promise<void> };
  onProgress?(p: QualityProgress): void;
  onLog?(line: string): void;
}): Promise<CatalogQualityRow> {
  const { entry, reference, config } = input;
  const { candidatePath, referencePath } = checkMeasurable(entry, reference, input.dataDir);
  const settings = { threads: config.threads, batchSize: HARNESS_BATCH_SIZE, gpuLayers: 0, sampling: "greedy" as const };
  try {
    const textPath = await verifiedQualityText();
    const score = await runQualityWorker(
      { candidatePath, referencePath: entry.id === reference.id ? null : referencePath, textPath, settings: { contextSize: HARNESS_CONTEXT_SIZE, batchSize: HARNESS_BATCH_SIZE, threads: config.threads } },
      { timeoutMs: config.timeoutSec * 1000, onProgress: input.onProgress, onLog: input.onLog },
    );
    return await input.repo.save(
      {
        entryId: entry.id,
        referenceEntryId: reference.id,
        perplexity: score.perplexity,
        top1Agreement: score.top1Agreement,
        referencePerplexity: score.referencePerplexity,
        harnessVersion: HARNESS_VERSION,
        textId: TEXT_ID,
        textSha256: TEXT_SHA256,
        contextSize: score.contextSize,
        scoredTokens: score.scoredTokens,
        settings,
        measuredBy: input.actor,
      },
      input.actor,
    );
  } catch (err) {
    await input.repo.recordFailure(entry.id, reference.id, err instanceof Error ? err.message : String(err), input.actor);
    throw err;
  }
}
