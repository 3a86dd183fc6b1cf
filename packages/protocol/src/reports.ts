import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";
import { REPORT_KINDS, type ReportKind } from "./subjects.js";
import { ZInventoryV1 } from "./inventory.js";
import { ZModelsReportV1 } from "./models.js";
import { ZHeartbeatV1 } from "./heartbeat.js";
import { ZPostureV1 } from "./posture.js";
import { ZEventsReportV1 } from "./events.js";
import { ZBenchmarkResultV1, ZRuntimeMetricsV1 } from "./runtime.js";
import { ZUpdateStatusV1 } from "./rollout.js";
import { ZEgressLedgerV1 } from "./egress.js";

/** Body schema of each report kind: the one table both sides decode with. */
export const REPORT_BODY_SCHEMAS = {
  inventory: ZInventoryV1,
  models: ZModelsReportV1,
  heartbeat: ZHeartbeatV1,
  posture: ZPostureV1,
  events: ZEventsReportV1,
  metrics: ZRuntimeMetricsV1,
  benchmark: ZBenchmarkResultV1,
  update: ZUpdateStatusV1,
  egress: ZEgressLedgerV1,
} as const satisfies Record<ReportKind, z.ZodType>;

export type ReportBody<K extends ReportKind> = z.infer<(typeof REPORT_BODY_SCHEMAS)[K]>;

/** Signed payload of every device report. `msgId` makes delivery idempotent; `seq` orders a device's reports. */
export const ZReportEnvelopeV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  kind: z.enum(REPORT_KINDS),
  deviceId: ZDeviceId,
  msgId: z.uuid(),
  seq: z.number().int().nonnegative(),
  sentAt: ZIsoDate,
  body: z.unknown(),
});

export type TReportV1 = {
  [K in ReportKind]: { v: 1; kind: K; deviceId: string; msgId: string; seq: number; sentAt: string; body: ReportBody<K> };
}[ReportKind];

/** Largest report accepted on the wire (NATS' default max_payload is 1 MiB). */
export const MAX_REPORT_BYTES = 512 * 1024;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validate a report body against its kind's schema. */
export function decodeReportBody<K extends ReportKind>(kind: K, body: unknown): DecodeResult<ReportBody<K>> {
  const parsed = REPORT_BODY_SCHEMAS[kind].safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data as ReportBody<K> };
  return { ok: false, reason: formatIssues(parsed.error) };
}

/** Validate a whole envelope, body included. */
export function decodeReport(value: unknown): DecodeResult<TReportV1> {
  const env = ZReportEnvelopeV1.safeParse(value);
  if (!env.success) return { ok: false, reason: formatIssues(env.error) };
  const body = decodeReportBody(env.data.kind, env.data.body);
  if (!body.ok) return { ok: false, reason: `body: ${body.reason}` };
  return { ok: true, value: { ...env.data, body: body.value } as TReportV1 };
}

/** One line per issue, with its path: precise enough to fix the sender. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

