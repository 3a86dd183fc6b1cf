import { z } from "zod";
import { ZBytes, ZIsoDate, ZSha256Hex } from "./common.js";
import { ZTargetPath } from "./catalog.js";
import type { TAssignmentV1 } from "./assignment.js";

// Staged rollouts: rings with soak times and gates, per-device states, and the agent's update status report.

export const UPDATE_STATES = ["pending", "downloading", "verifying", "testing", "active", "failed", "rolled_back"] as const;
export const ZUpdateState = z.enum(UPDATE_STATES);
export type TUpdateState = z.infer<typeof ZUpdateState>;

/**
 * How often an agent sends a "downloading" update report while it downloads (plus one at the start and one at the end):
 * every second, a rollout to 10,000 devices was 10,000 reports a second of progress alone.
 */
export const UPDATE_PROGRESS_INTERVAL_MS = 10_000;

/** Why an install failed, as a stable code (the reason text says more). */
export const UpdateFailure = {
  DiskFull: "disk_full",
  DownloadFailed: "download_failed",
  HashMismatch: "hash_mismatch",
  NotInTargets: "not_in_targets",
  MetadataRollback: "metadata_rollback",
  MetadataExpired: "metadata_expired",
  MetadataInvalid: "metadata_invalid",
  WrongModel: "wrong_model",
  DoesNotFit: "does_not_fit",
  RuntimeIncompatible: "runtime_incompatible",
  SelfTestFailed: "self_test_failed",
  AssignmentInvalid: "assignment_invalid",
} as const;
export type UpdateFailure = (typeof UpdateFailure)[keyof typeof UpdateFailure];

export const ZSelfTestV1 = z.object({
  ok: z.boolean(),
  loadMs: z.number().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative().nullable(),
  error: z.string().max(2000).nullable(),
});
export type TSelfTestV1 = z.infer<typeof ZSelfTestV1>;

/** Device -> server (report kind "update"): progress of the assignment with this version. */
export const ZUpdateStatusV1 = z.object({
  at: ZIsoDate,
  assignmentVersion: z.number().int().nonnegative(),
  rolloutId: z.uuid().nullable(),
  target: ZTargetPath.nullable(),
  sha256: ZSha256Hex.nullable(),
  state: ZUpdateState,
  bytesDone: ZBytes.nullable(),
  bytesTotal: ZBytes.nullable(),
  /** an UpdateFailure code when state is failed or rolled_back */
  code: z.string().max(64).nullable(),
  reason: z.string().max(2000).nullable(),
  selfTest: ZSelfTestV1.nullable(),
  /** what serves on the device after this step (file name and hash), so the server knows the known-good */
  serving: z.object({ model: z.string().max(500), sha256: ZSha256Hex.nullable() }).nullable(),
});
export type TUpdateStatusV1 = z.infer<typeof ZUpdateStatusV1>;

export const ZGatesV1 = z.object({
  /** failed installs / devices in the ring, 0..1 */
  maxFailureRate: z.number().min(0).max(1).default(0),
  /** devices that must reach active before the ring can pass */
  minSuccesses: z.number().int().nonnegative().default(1),
  /** share of model loads that succeeded during the soak, 0..1 */
  minLoadSuccessRate: z.number().min(0).max(1).default(1),
  /** request errors / requests during the soak, 0..1 */
  maxErrorRate: z.number().min(0).max(1).default(0.05),
  /** tokens/s of the new model relative to the same device's previous model (median over the ring); null = not gated */
  minTokensPerSecRatio: z.number().min(0).max(10).nullable().default(0.8),
});
export type TGatesV1 = z.infer<typeof ZGatesV1>;

export const ZRingSpecV1 = z.object({
  name: z.string().min(1).max(50),
  /** cumulative share of the targeted devices reached by the end of this ring, 1..100 */
  percent: z.number().min(0.01).max(100),
  soakSec: z.number().int().min(0).max(30 * 86_400),
  gates: ZGatesV1.default(ZGatesV1.parse({})),
});
export type TRingSpecV1 = z.infer<typeof ZRingSpecV1>;

export const ROLLOUT_STATES = ["running", "paused", "completed", "aborted", "rolled_back"] as const;
export const ZRolloutState = z.enum(ROLLOUT_STATES);
export type TRolloutState = z.infer<typeof ZRolloutState>;

export const ROLLOUT_DEVICE_STATES = ["skipped", "waiting", ...UPDATE_STATES] as const;
/** waiting: in a later ring, not assigned yet; skipped: incompatible (reason says why), never sent the model. */
export const ZRolloutDeviceState = z.enum(ROLLOUT_DEVICE_STATES);
export type TRolloutDeviceState = z.infer<typeof ZRolloutDeviceState>;

export const DEFAULT_RINGS: TRingSpecV1[] = [
  { name: "canary", percent: 5, soakSec: 600, gates: ZGatesV1.parse({}) },
  { name: "early", percent: 25, soakSec: 1800, gates: ZGatesV1.parse({ maxFailureRate: 0.05 }) },
  { name: "broad", percent: 100, soakSec: 0, gates: ZGatesV1.parse({ maxFailureRate: 0.05 }) },
];

export const ZCreateRolloutRequestV1 = z.object({
  entryId: z.uuid(),
  /** all compatible devices, or those whose label `group` equals this */
  group: z.string().min(1).max(100).nullable().default(null),
  rings: z.array(ZRingSpecV1).min(1).max(10).default(DEFAULT_RINGS),
  note: z.string().max(1000).optional(),
});
export type TCreateRolloutRequestV1 = z.infer<typeof ZCreateRolloutRequestV1>;

export const ZRolloutActionRequestV1 = z.object({ reason: z.string().min(1).max(1000) });

export const ZGateResultV1 = z.object({
  gate: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  pass: z.boolean(),
  detail: z.string(),
});
export type TGateResultV1 = z.infer<typeof ZGateResultV1>;

export const ZRolloutRingViewV1 = z.object({
  index: z.number().int().nonnegative(),
  spec: ZRingSpecV1,
  devices: z.number().int().nonnegative(),
  counts: z.record(ZRolloutDeviceState, z.number().int().nonnegative()),
  startedAt: ZIsoDate.nullable(),
  soakEndsAt: ZIsoDate.nullable(),
  passedAt: ZIsoDate.nullable(),
  gates: z.array(ZGateResultV1),
});

export const ZRolloutV1 = z.object({
  id: z.uuid(),
  entryId: z.uuid(),
  targetPath: ZTargetPath,
  sha256: ZSha256Hex,
  group: z.string().nullable(),
  state: ZRolloutState,
  currentRing: z.number().int().nonnegative(),
  reason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: ZIsoDate,
  updatedAt: ZIsoDate,
  completedAt: ZIsoDate.nullable(),
  rings: z.array(ZRolloutRingViewV1),
  totals: z.record(ZRolloutDeviceState, z.number().int().nonnegative()),
});
export type TRolloutV1 = z.infer<typeof ZRolloutV1>;

export const ZRolloutDeviceViewV1 = z.object({
  deviceId: z.string(),
  hostname: z.string(),
  ring: z.number().int().nonnegative().nullable(),
  state: ZRolloutDeviceState,
  code: z.string().nullable(),
  reason: z.string().nullable(),
  bytesDone: ZBytes.nullable(),
  bytesTotal: ZBytes.nullable(),
  previousTarget: z.string().nullable(),
  assignmentVersion: z.number().int().nullable(),
  stateAt: ZIsoDate,
  /** state -> first time the device entered it */
  timeline: z.record(z.string(), ZIsoDate),
});
export type TRolloutDeviceViewV1 = z.infer<typeof ZRolloutDeviceViewV1>;

export const ZRolloutDeviceQueryV1 = z.object({
  page: z.coerce.number().int().positive().default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(100),
  state: ZRolloutDeviceState.optional(),
  ring: z.coerce.number().int().nonnegative().optional(),
});

/** Adoption: devices per state over time (buckets) and time-to-active per ring. */
export const ZRolloutAdoptionV1 = z.object({
  buckets: z.array(z.object({ at: ZIsoDate, counts: z.record(ZRolloutDeviceState, z.number().int().nonnegative()) })),
  timeToActiveSec: z.array(z.object({ ring: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable(), n: z.number().int() })),
});

/** The "update" report about assignment `a` in `state`; everything not given is null. */
export function updateStatusOf(
  a: Pick<TAssignmentV1, "version" | "rolloutId" | "desired">,
  state: TUpdateState,
  fields: Partial<Omit<TUpdateStatusV1, "assignmentVersion" | "rolloutId" | "target" | "sha256" | "state">> = {},
): TUpdateStatusV1 {
  return {
    at: new Date().toISOString(),
    assignmentVersion: a.version,
    rolloutId: a.rolloutId,
    target: a.desired?.target ?? null,
    sha256: a.desired?.sha256 ?? null,
    state,
    bytesDone: null,
    bytesTotal: null,
    code: null,
    reason: null,
    selfTest: null,
    serving: null,
    ...fields,
  };
}
