import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";

/**
 * Server -> every server instance, on core NATS `<prefix>.control.device-revoked`: drop this device's cached key.
 * Unsigned on purpose: receiving it only empties a cache, and the database stays the authority on revocation.
 */
export const ZDeviceRevokedV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  deviceId: ZDeviceId,
  revokedAt: ZIsoDate,
  /** instance id of the server that revoked, so it can skip its own announcement */
  origin: z.string().min(1).max(100),
});
export type TDeviceRevokedV1 = z.infer<typeof ZDeviceRevokedV1>;
