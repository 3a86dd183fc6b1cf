import { z } from "zod";
import { ZIsoDate } from "./common.js";

/** The policies a device is evaluated against on each posture and models report. */
export const CompliancePolicyIds = [
  "api_loopback",
  "api_auth",
  "outbound_allowlist",
  "telemetry_max",
  "approved_models",
  "no_unauthenticated_llm_server",
] as const;
export const ZCompliancePolicyId = z.enum(CompliancePolicyIds);
export type CompliancePolicyId = z.infer<typeof ZCompliancePolicyId>;

export const ZTelemetryMode = z.enum(["off", "metrics-only", "full"]);

/**
 * `host`, `host:port` or `*.domain` (any subdomain); matched against the host[:port] of each declared endpoint and
 * of each destination in the device's outbound ledger (its resolved address too).
 */
export const ZAllowlistEntry = z
  .string()
  .min(1)
  .max(300)
  .regex(/^(\*\.)?[A-Za-z0-9._\-[\]:]+$/, "must be host, host:port or *.domain");

export const ZCompliancePolicyV1 = z.object({
  id: ZCompliancePolicyId,
  enabled: z.boolean(),
  /** outbound_allowlist only: destinations a device may use */
  allowlist: z.array(ZAllowlistEntry).max(500),
  /** telemetry_max only: the most telemetry a device may send */
  maxTelemetry: ZTelemetryMode,
  updatedAt: ZIsoDate.nullable(),
  updatedBy: z.string().max(200).nullable(),
});
export type TCompliancePolicyV1 = z.infer<typeof ZCompliancePolicyV1>;

export const ZCompliancePolicyListV1 = z.object({ items: z.array(ZCompliancePolicyV1) });

export const ZCompliancePolicyUpdateV1 = z.strictObject({
  enabled: z.boolean().optional(),
  allowlist: z.array(ZAllowlistEntry).max(500).optional(),
  maxTelemetry: ZTelemetryMode.optional(),
});
export type TCompliancePolicyUpdateV1 = z.infer<typeof ZCompliancePolicyUpdateV1>;

/** One thing that breaks a policy on one device (a model hash, a port, a destination), with what showed it. */
export const ZComplianceFindingV1 = z.object({
  /** stable key of the offending thing within the policy, e.g. a sha256 or "ollama:11434" */
  subject: z.string().max(500),
  detail: z.string().max(2000),
  evidence: z.record(z.string(), z.unknown()),
  firstSeenAt: ZIsoDate,
  lastSeenAt: ZIsoDate,
});
export type TComplianceFindingV1 = z.infer<typeof ZComplianceFindingV1>;

export const ZPolicyStatus = z.enum(["pass", "fail", "no_data", "disabled"]);
export type PolicyStatus = z.infer<typeof ZPolicyStatus>;

export const ZDevicePolicyResultV1 = z.object({
  policy: ZCompliancePolicyId,
  status: ZPolicyStatus,
  findings: z.array(ZComplianceFindingV1),
});

export const ZDeviceComplianceV1 = z.object({
  deviceId: z.string(),
  hostname: z.string(),
  /** fail if any enabled policy fails; no_data when the device never sent a posture */
  status: z.enum(["pass", "fail", "no_data"]),
  lastPostureAt: ZIsoDate.nullable(),
  results: z.array(ZDevicePolicyResultV1),
});
export type TDeviceComplianceV1 = z.infer<typeof ZDeviceComplianceV1>;

export const ZOutboundDestinationV1 = z.object({
  /** host[:port] of a declared endpoint or of a ledger entry, credentials stripped */
  destination: z.string(),
  purposes: z.array(z.string()),
  /** devices that declare it or whose outbound ledger lists it */
  deviceCount: z.number().int().nonnegative(),
  /** bytes sent + received over the fleet, from the devices' outbound ledgers; null = only declared, never seen */
  bytes: z.number().int().nonnegative().nullable(),
  /** declared: in a posture only; observed: in a ledger only (undeclared!); both */
  source: z.enum(["declared", "observed", "both"]).optional(),
  bytesSent: z.number().int().nonnegative().nullable().optional(),
  bytesReceived: z.number().int().nonnegative().nullable().optional(),
  /** devices whose ledger lists it (<= deviceCount) */
  observedDeviceCount: z.number().int().nonnegative().optional(),
  /** resolved addresses the sockets connected to */
  addresses: z.array(z.string()).optional(),
});
export type TOutboundDestinationV1 = z.infer<typeof ZOutboundDestinationV1>;

export const ZComplianceReportV1 = z.object({
  format: z.literal("fleet-compliance-report/v1"),
  generatedAt: ZIsoDate,
  scope: z.object({ devices: z.enum(["all", "selected"]), deviceIds: z.array(z.string()), includesRevoked: z.boolean() }),
  policies: z.array(ZCompliancePolicyV1),
  totals: z.object({
    devices: z.number().int(),
    passing: z.number().int(),
    failing: z.number().int(),
    noData: z.number().int(),
    openViolations: z.number().int(),
    byPolicy: z.array(z.object({ policy: ZCompliancePolicyId, pass: z.number().int(), fail: z.number().int(), noData: z.number().int(), disabled: z.number().int() })),
  }),
  devices: z.array(ZDeviceComplianceV1),
  destinations: z.array(ZOutboundDestinationV1),
});
export type TComplianceReportV1 = z.infer<typeof ZComplianceReportV1>;

export const ZComplianceReportQueryV1 = z.object({
  /** comma-separated device ids; absent = every device that is not revoked */
  deviceIds: z
    .string()
    .max(20_000)
    .optional()
    .transform((s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined)),
});

export const ZComplianceViolationV1 = z.object({
  id: z.string(),
  deviceId: z.string(),
  policy: ZCompliancePolicyId,
  subject: z.string(),
  detail: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  firstSeenAt: ZIsoDate,
  lastSeenAt: ZIsoDate,
  resolvedAt: ZIsoDate.nullable(),
});
export type TComplianceViolationV1 = z.infer<typeof ZComplianceViolationV1>;

export const ZComplianceViolationQueryV1 = z.object({
  deviceId: z.string().max(64).optional(),
  policy: ZCompliancePolicyId.optional(),
  state: z.enum(["open", "resolved", "all"]).default("all"),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const ZComplianceViolationListV1 = z.object({ items: z.array(ZComplianceViolationV1) });

/** The signed JSON export: the report as readable JSON, and a compact JWS (server key) whose payload is that report. */
export const COMPLIANCE_EXPORT_JWS_TYP = "fleet-compliance-export+jws";
export const ZSignedComplianceExportV1 = z.object({
  format: z.literal("fleet-compliance-export/v1"),
  report: ZComplianceReportV1,
  jws: z.string().min(1),
});
export type TSignedComplianceExportV1 = z.infer<typeof ZSignedComplianceExportV1>;
