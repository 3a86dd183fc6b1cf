import { z } from "zod";
import { ZPageV1 } from "./api.js";

// The audit log as the console reads it (issue 12): who did what, when, to what. Viewer may read.

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((v) => (v ? v : undefined));

export const ZAuditListQueryV1 = z
  .object({
    /** substring of the actor, case-insensitive ("ana@" finds "user:ana@example.com") */
    actor: optionalText(200),
    /** exact action, or a prefix ending in "." ("rollout." finds every rollout action) */
    action: optionalText(200),
    targetType: optionalText(100),
    targetId: optionalText(200),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    page: z.coerce.number().int().positive().max(100_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "from must not be after to", path: ["from"] });
export type TAuditListQueryV1 = z.infer<typeof ZAuditListQueryV1>;

export const ZAuditEntryV1 = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.unknown().nullable(),
});
export type TAuditEntryV1 = z.infer<typeof ZAuditEntryV1>;

export const ZAuditListV1 = ZPageV1(ZAuditEntryV1);
export type TAuditListV1 = z.infer<typeof ZAuditListV1>;

/** Columns of GET /api/v1/audit.csv, in order. */
export const AUDIT_CSV_COLUMNS = ["at", "actor", "action", "targetType", "targetId", "details"] as const;
