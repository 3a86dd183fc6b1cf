import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ZSha256Hex } from "@fleet/protocol";
import { writeFileAtomic } from "../util/writeFileAtomic.js";

export const KNOWN_GOOD_FILE = "known-good.json";

/** The last model that loaded and served on this device (<home>/known-good.json): what a restart serves first. */
export const ZKnownGood = z.strictObject({
  v: z.literal(1),
  /** file name in the models dir */
  model: z.string().min(1).max(500),
  sha256: ZSha256Hex.nullable(),
  sizeBytes: z.number().int().nonnegative(),
  at: z.string(),
});
export type KnownGood = z.infer<typeof ZKnownGood>;

export function knownGoodPath(home: string): string {
  return path.join(home, KNOWN_GOOD_FILE);
}

/** null when there is none yet; a corrupt file is an error the caller reports (it is then ignored, not trusted). */
export async function readKnownGood(file: string): Promise<KnownGood | null> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const parsed = ZKnownGood.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is invalid: ${parsed.error.issues[0]?.message ?? "schema"}`);
  return parsed.data;
}

export async function writeKnownGood(file: string, kg: Omit<KnownGood, "v" | "at">): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(ZKnownGood.parse({ v: 1, at: new Date().toISOString(), ...kg }), null, 2) + "\n", { mode: 0o600 });
}
