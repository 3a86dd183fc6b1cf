import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { ApprovedHashes } from "../exposure/ApprovedHashes.js";

// The part of TUF targets metadata that provenance needs. tuf-js writes targets.json into the metadata dir only
// after verifying it (signatures, versions, expiry), so the file in the agent's own 0700 home is trusted as is.
const ZTrustedTargets = z.object({
  signed: z.object({
    expires: z.string(),
    targets: z.record(z.string(), z.object({ hashes: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) })),
  }),
});

/**
 * Catalog-approved model hashes for the posture's provenance: the sha256 of every target in the targets metadata the
 * agent last verified. null (provenance "unknown: catalog not synced") when there is none yet or it has expired.
 */
export class TrustedTargetsHashes implements ApprovedHashes {
  constructor(
    private readonly metadataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  approvedSha256s(): Set<string> | null {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.metadataDir, "targets.json"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    const parsed = ZTrustedTargets.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${path.join(this.metadataDir, "targets.json")} is not TUF targets metadata`);
    if (Date.parse(parsed.data.signed.expires) <= this.now()) return null;
    return new Set(Object.values(parsed.data.signed.targets).map((t) => t.hashes.sha256));
  }
}
