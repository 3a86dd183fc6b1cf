import { z } from "zod";
import { SCHEMA_VERSION, ZBytes, ZDeviceId, ZIsoDate, ZSha256Hex } from "./common.js";
import { ZTargetPath } from "./catalog.js";

/** The model a device should serve: a TUF target the agent re-checks against current targets metadata. */
export const ZAssignedTargetV1 = z.object({ target: ZTargetPath, sha256: ZSha256Hex, length: ZBytes });
export type TAssignedTargetV1 = z.infer<typeof ZAssignedTargetV1>;

/**
 * A device's desired state, signed by the server (JWS typ fleet-assignment+jws) and kept where an offline device
 * finds it when it reconnects (JetStream KV, key = device id). `version` only grows per device: the agent keeps
 * the highest version it accepted and refuses anything not higher, so an old assignment replayed is refused.
 */
export const ZAssignmentV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  deviceId: ZDeviceId,
  version: z.number().int().positive(),
  issuedAt: ZIsoDate,
  expiresAt: ZIsoDate,
  rolloutId: z.uuid().nullable(),
  ring: z.number().int().nonnegative().nullable(),
  /**
   * install: fetch, verify, self-test and serve `desired`;
   * rollback: serve `desired` (the previous known-good target) again, or the agent's own known-good when null;
   * clear: no catalog model is assigned (the agent serves its configured / known-good model).
   */
  action: z.enum(["install", "rollback", "clear"]),
  desired: ZAssignedTargetV1.nullable(),
  /** catalog targets revoked since: stop serving and remove them at this sync */
  revokedSha256: z.array(ZSha256Hex).max(1000).default([]),
});
export type TAssignmentV1 = z.infer<typeof ZAssignmentV1>;

export const ASSIGNMENT_JWS_TYP = "fleet-assignment+jws";
export const DEFAULT_ASSIGNMENT_BUCKET = "FLEET_ASSIGNMENTS";
