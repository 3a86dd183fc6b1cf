import { calculateJwkThumbprint } from "jose";
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

/**
 * The pin an admin hands to `fleet-agent enroll --server-key-sha256`: the RFC 7638 SHA-256 thumbprint (base64url) of
 * the server's command-signing public key, printed by `fleet-server token create` and returned with every new token.
 */
export function serverKeySha256(jwk: Pick<TEd25519PublicJwk, "kty" | "crv" | "x">): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
}
export const ZServerKeySha256 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url SHA-256 thumbprint (43 characters)");

/** NATS URLs an agent may be sent to: nats/tls/ws/wss with a host, nothing else (no file:, http:, javascript: …). */
export const ZNatsUrl = z
  .string()
  .max(2000)
  .refine((v) => {
    try {
      const u = new URL(v);
      return ["nats:", "tls:", "ws:", "wss:"].includes(u.protocol) && u.hostname !== "" && (u.pathname === "" || u.pathname === "/") && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, "must be a nats://, tls://, ws:// or wss:// URL with a host and no path");

/** A NATS subject prefix: dot-separated tokens, no wildcards, no whitespace. */
export const ZSubjectPrefix = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be dot-separated tokens of [A-Za-z0-9_-]");

export const ZCreateEnrollmentTokenRequestV1 = z.object({
  ttlSeconds: z.number().int().min(60).max(30 * 24 * 3600).default(24 * 3600),
  note: z.string().max(500).optional(),
});
export const ZCreateEnrollmentTokenResponseV1 = z.object({
  id: z.string(),
  token: z.string(),
  expiresAt: ZIsoDate,
  /** pin for `fleet-agent enroll --server-key-sha256` (see serverKeySha256) */
  serverKeySha256: ZServerKeySha256.optional(),
});

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
  subjectPrefix: ZSubjectPrefix,
  /** the NATS URL agents should use; null means "use your configured one" */
  natsUrl: ZNatsUrl.nullable(),
  /** verifies commands and catalog updates the server signs */
  serverPublicKeyJwk: ZEd25519PublicJwk,
  heartbeatIntervalSec: z.number().int().positive(),
  /** user JWT for natsUserKey, signed by the fleet's NATS account; null = this NATS needs no per-device identity */
  natsUserJwt: z.string().max(10_000).nullable().default(null),
  /** the catalog's current TUF root.json (exact text): the agent's trust anchor for catalog updates; null = no catalog */
  catalogTrustedRoot: z.string().max(1_000_000).nullable().default(null),
  /** JetStream KV bucket holding the device's signed assignment (key = device id) */
  assignmentBucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("FLEET_ASSIGNMENTS"),
  /** JetStream KV bucket holding the device's signed device policy (key = device id) */
  policyBucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("FLEET_DEVICE_POLICIES"),
});
export type TEnrollResponseV1 = z.infer<typeof ZEnrollResponseV1>;
