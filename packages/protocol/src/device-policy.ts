import { z } from "zod";
import { CompactSign, compactVerify, decodeProtectedHeader, type CryptoKey } from "jose";
import { ZDeviceId, ZIsoDate } from "./common.js";
import type { ReportKind } from "./subjects.js";
import { formatIssues } from "./reports.js";

// The device policy (contract 2): what a device may send (privacy) and how much of the machine it may use
// (resources). Signed by the server (JWS typ fleet-device-policy+jws) and kept in a JetStream KV bucket under
// key = device id, which only that device may read. The server writes each device's EFFECTIVE policy (fleet
// default with that device's override applied), so the agent never merges anything.

export const DEVICE_POLICY_SCHEMA = "device-policy/v1" as const;
export const DEVICE_POLICY_JWS_TYP = "fleet-device-policy+jws";
export const DEFAULT_DEVICE_POLICY_BUCKET = "FLEET_DEVICE_POLICIES";

export const POLICY_TELEMETRY_MODES = ["off", "minimal", "full"] as const;
export const ZPolicyTelemetryMode = z.enum(POLICY_TELEMETRY_MODES);
export type PolicyTelemetryMode = z.infer<typeof ZPolicyTelemetryMode>;

/** Who allowed remote fallback and when; recorded by an admin through the server (audited). */
export const ZConsentV1 = z.object({ grantedBy: z.string().min(1).max(320), grantedAt: ZIsoDate });
export type TConsentV1 = z.infer<typeof ZConsentV1>;

export const ZPrivacyPolicyV1 = z.object({
  telemetry: ZPolicyTelemetryMode,
  remoteFallback: z.enum(["off", "allowed-with-consent"]),
  consent: ZConsentV1.nullable().optional(),
});
export type TPrivacyPolicyV1 = z.infer<typeof ZPrivacyPolicyV1>;

export const ZResourcePolicyV1 = z.object({
  /** cap on node-llama-cpp threads; null = no cap */
  maxInferenceThreads: z.number().int().min(1).nullable(),
  /** share of cores for inference; null = no cap */
  maxCpuSharePct: z.number().int().min(1).max(100).nullable(),
  /** hashing, downloads, self-tests, benchmarks only on AC power */
  backgroundOnlyOnAcPower: z.boolean(),
  backgroundOnlyWhenIdle: z.boolean(),
  idleCpuPctBelow: z.number().int().min(1).max(100),
  backgroundNice: z.number().int().min(0).max(19),
  backgroundIoniceClass: z.enum(["idle", "best-effort", "none"]),
});
export type TResourcePolicyV1 = z.infer<typeof ZResourcePolicyV1>;

export const ZDevicePolicyV1 = z.object({
  schema: z.literal(DEVICE_POLICY_SCHEMA),
  /** only grows per device: the agent refuses a policy whose version is not higher than the one it holds */
  version: z.number().int().positive(),
  issuedAt: ZIsoDate,
  expiresAt: ZIsoDate.optional(),
  /** the device it was issued for; when present the agent refuses a policy addressed to another device */
  deviceId: ZDeviceId.optional(),
  privacy: ZPrivacyPolicyV1,
  resources: ZResourcePolicyV1,
});
export type TDevicePolicyV1 = z.infer<typeof ZDevicePolicyV1>;

/** What an admin edits (fleet default or one device's override): the policy without its signing envelope. */
export const ZDevicePolicySettingsV1 = z.object({ privacy: ZPrivacyPolicyV1, resources: ZResourcePolicyV1 });
export type TDevicePolicySettingsV1 = z.infer<typeof ZDevicePolicySettingsV1>;

/** Body of PUT /api/v1/policies/device and PUT /api/v1/devices/:id/policy (consent is recorded separately). */
export const ZDevicePolicySettingsInputV1 = z
  .object({ privacy: ZPrivacyPolicyV1.omit({ consent: true }), resources: ZResourcePolicyV1 })
  .strict();
export type TDevicePolicySettingsInputV1 = z.infer<typeof ZDevicePolicySettingsInputV1>;

/** Body of POST /api/v1/devices/:id/policy/consent: remote fallback consent for one device. */
export const ZRemoteFallbackConsentInputV1 = z.object({ granted: z.boolean() }).strict();

/** Fleet default before an admin sets one: nothing leaves but the control plane, no remote fallback, no caps. */
export const DEFAULT_DEVICE_POLICY_SETTINGS: TDevicePolicySettingsV1 = {
  privacy: { telemetry: "minimal", remoteFallback: "off", consent: null },
  resources: {
    maxInferenceThreads: null,
    maxCpuSharePct: null,
    backgroundOnlyOnAcPower: false,
    backgroundOnlyWhenIdle: false,
    idleCpuPctBelow: 50,
    backgroundNice: 10,
    backgroundIoniceClass: "idle",
  },
};

/** The server's answer for a device's policy: the effective settings, where they come from, what was signed. */
export const ZDevicePolicyViewV1 = z.object({
  deviceId: ZDeviceId.nullable(),
  source: z.enum(["default", "fleet", "device"]),
  settings: ZDevicePolicySettingsV1,
  /** the last policy signed for this device (null for the fleet default view) */
  issued: ZDevicePolicyV1.nullable(),
  updatedAt: ZIsoDate.nullable(),
  updatedBy: z.string().nullable(),
});
export type TDevicePolicyViewV1 = z.infer<typeof ZDevicePolicyViewV1>;

/**
 * Control-plane reports: what the server needs to manage the device and check it (health, what it runs, updates,
 * command outcomes and errors as events, posture and the outbound ledger). They leave the device under every
 * telemetry mode, "off" included. Usage telemetry (runtime metrics: requests, tokens, latencies, memory per window;
 * benchmark results) leaves only under "minimal" or "full". Prompts and outputs leave under no mode.
 */
export const CONTROL_PLANE_REPORT_KINDS = ["heartbeat", "inventory", "models", "posture", "update", "events", "egress"] as const satisfies readonly ReportKind[];

/** Report kinds each telemetry mode lets leave the device; anything else is dropped before it is queued. */
export const REPORT_KINDS_BY_TELEMETRY: Record<PolicyTelemetryMode, readonly ReportKind[]> = {
  off: CONTROL_PLANE_REPORT_KINDS,
  minimal: [...CONTROL_PLANE_REPORT_KINDS, "metrics", "benchmark"],
  // the same kinds today; "full" is where richer usage telemetry would go, never prompts or outputs
  full: [...CONTROL_PLANE_REPORT_KINDS, "metrics", "benchmark"],
};

export function reportAllowedByTelemetry(mode: PolicyTelemetryMode, kind: ReportKind): boolean {
  return REPORT_KINDS_BY_TELEMETRY[mode].includes(kind);
}

/** The posture's telemetry enum predates the policy: minimal = metrics-only. One mapping, both directions. */
export function postureTelemetryOf(mode: PolicyTelemetryMode): "off" | "metrics-only" | "full" {
  return mode === "minimal" ? "metrics-only" : mode;
}
export function telemetryModeOfPosture(value: "off" | "metrics-only" | "full"): PolicyTelemetryMode {
  return value === "metrics-only" ? "minimal" : value;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export async function signDevicePolicy(policy: TDevicePolicyV1, serverPrivateKey: CryptoKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(ZDevicePolicyV1.parse(policy))))
    .setProtectedHeader({ alg: "EdDSA", typ: DEVICE_POLICY_JWS_TYP })
    .sign(serverPrivateKey);
}

export type DevicePolicyRefusal = "malformed" | "bad_signature" | "schema_invalid" | "device_mismatch" | "expired" | "replayed";
export type OpenDevicePolicyResult = { ok: true; value: TDevicePolicyV1 } | { ok: false; reason: DevicePolicyRefusal; detail: string };

export interface OpenDevicePolicyOptions {
  deviceId: string;
  /** version of the policy the device holds (persisted); anything not higher is refused */
  minVersionExclusive: number;
  now?: Date;
}

/** Verify a signed policy as the agent must before applying it: signature, schema, addressee, expiry, version. */
export async function openDevicePolicy(data: Uint8Array | string, serverKey: CryptoKey | Uint8Array, opts: OpenDevicePolicyOptions): Promise<OpenDevicePolicyResult> {
  let payload: Uint8Array;
  try {
    const jws = (typeof data === "string" ? data : decoder.decode(data)).trim();
    if (decodeProtectedHeader(jws).typ !== DEVICE_POLICY_JWS_TYP) return { ok: false, reason: "malformed", detail: "not a fleet device policy" };
    ({ payload } = await compactVerify(jws, serverKey, { algorithms: ["EdDSA"] }));
  } catch {
    return { ok: false, reason: "bad_signature", detail: "device policy is not signed by the server" };
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: "malformed", detail: "payload is not JSON" };
  }
  const parsed = ZDevicePolicyV1.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "schema_invalid", detail: formatIssues(parsed.error) };
  const p = parsed.data;
  if (p.deviceId !== undefined && p.deviceId !== opts.deviceId) return { ok: false, reason: "device_mismatch", detail: `policy for ${p.deviceId}` };
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= (opts.now ?? new Date()).getTime()) {
    return { ok: false, reason: "expired", detail: `policy ${p.version} expired at ${p.expiresAt}` };
  }
  if (p.version <= opts.minVersionExclusive) {
    return { ok: false, reason: "replayed", detail: `policy version ${p.version} is not newer than ${opts.minVersionExclusive}` };
  }
  return { ok: true, value: p };
}
