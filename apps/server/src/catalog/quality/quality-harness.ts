import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { fileURLToPath } from "node:url";

// What makes two scores comparable: the same harness version, text, window size and batch. Changing any of these
// means a new HARNESS_VERSION (older scores are then refused by the gate until re-measured).

/** Bump when the measurement changes in a way that moves scores. */
export const HARNESS_VERSION = "quality/1";
/** Own English prose shipped with the server (assets/quality/<textId>.txt), pinned by its sha256. */
export const TEXT_ID = "fleetwise-prose-v1";
export const TEXT_SHA256 = "ec9f21e4aa8be80270bc90d40bf0e09668285a7d29bc6c7c9bdbdd24aabcb202";
/** tokens per scored window, BOS included (capped by a model's training context) */
export const HARNESS_CONTEXT_SIZE = 512;
export const HARNESS_BATCH_SIZE = 512;

export class QualityTextError extends Error {
  override name = "QualityTextError";
}

/** Path of the harness text; src/catalog/quality and dist/catalog/quality are both three levels below the package. */
export function qualityTextPath(): string {
  return fileURLToPath(new URL(`../../../assets/quality/${TEXT_ID}.txt`, import.meta.url));
}

/** The text's path once its bytes are checked against the pinned hash (an edited text would make scores incomparable). */
export async function verifiedQualityText(): Promise<string> {
  const file = qualityTextPath();
  const bytes = await fs.readFile(file).catch((err: unknown) => {
    throw new QualityTextError(`the quality text ${TEXT_ID} is missing at ${file}`, { cause: err });
  });
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== TEXT_SHA256) throw new QualityTextError(`the quality text ${TEXT_ID} has sha256 ${sha}, expected ${TEXT_SHA256}`);
  return file;
}
