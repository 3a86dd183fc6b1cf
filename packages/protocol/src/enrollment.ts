import { z } from "zod";
import { ZDeviceId, ZIsoDate } from "./common.js";

/** Ed25519 public key as a JWK; private parts are refused so a key never travels by mistake. */
export const ZEd25519PublicJwk = z.strictObject({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "x must be a 32-byte base64url key"),
  kid: z.string().max(100).optional(),
  alg: z.literal("EdDSA").optional(),
  use: z.literal("sig").optional(),
});
export type TEd25519PublicJwk = z.infer<typeof ZEd25519PublicJwk>;

export const ZCreateEnrollmentTokenRequestV1 = z.object({
  ttlSeconds: z.number().int().min(60).max(30 * 24 * 3600).default(24 * 3600),
  note: z.string().max(500).optional(),
});
export const ZCreateEnrollmentTokenResponseV1 = z.object({ id: z.string(), token: z.string(), expiresAt: ZIsoDate });

export const ZEnrollRequestV1 = z.object({
  token: z.string().min(16).max(200),
  publicKeyJwk: ZEd25519PublicJwk,
  hostname: z.string().min(1).max(255),
  agentVersion: z.string().max(50),
  /** the device's own NATS user nkey (public part only; the seed never leaves the device) */
  natsUserKey: z.string().regex(/^U[A-Z2-7]{55}$/, "must be a NATS user public nkey (U…)").optional(),
});
export type TEnrollRequestV1 = z.infer<typeof ZEnrollRequestV1>;

export const ZEnrollResponseV1 = z.object({
  deviceId: ZDeviceId,
  subjectPrefix: z.string(),
  /** the NATS URL agents should use; null means "use your configured one" */
  natsUrl: z.string().nullable(),
  /** verifies commands and catalog updates the server signs */
  serverPublicKeyJwk: ZEd25519PublicJwk,
  heartbeatIntervalSec: z.number().int().positive(),
  /** user JWT for natsUserKey, signed by the fleet's NATS account; null = this NATS needs no per-device identity */
  natsUserJwt: z.string().max(10_000).nullable().default(null),
  /** the catalog's current TUF root.json (exact text): the agent's trust anchor for catalog updates; null = no catalog */
  catalogTrustedRoot: z.string().max(1_000_000).nullable().default(null),
  /** JetStream KV bucket holding the device's signed assignment (key = device id) */
  assignmentBucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("FLEET_ASSIGNMENTS"),
});
export type TEnrollResponseV1 = z.infer<typeof ZEnrollResponseV1>;
