import { z } from "zod";

/** Catalog updates (TUF + signed assignments). */
export const ZUpdateConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** catalog versions kept on disk besides the serving one; older ones are removed (never the last usable model) */
  keepPreviousVersions: z.number().int().nonnegative().default(1),
  /** free disk space required beyond the download itself */
  diskMarginBytes: z.number().int().nonnegative().default(1024 * 1024 * 1024),
  /** a download with no bytes for this long is abandoned (the partial file stays) and resumed later */
  stallTimeoutSec: z.number().positive().default(60),
  /** wait before resuming a failed download */
  retrySec: z.number().positive().default(300),
  /** how often the assignment is read again besides live updates */
  assignmentPollSec: z.number().positive().default(600),
});
export type UpdateConfig = z.infer<typeof ZUpdateConfig>;
