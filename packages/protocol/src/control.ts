import { CompactSign, base64url, compactVerify, type CryptoKey } from "jose";
import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";
import { ZFleetEventV1 } from "./fleet-events.js";

/**
 * Server -> every server instance, on core NATS `<prefix>.control.device-revoked`: drop this device's cached key.
 * Travels as a JWS signed by the server key (signDeviceRevoked); only the server's NATS user may publish there.
 */
export const ZDeviceRevokedV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  deviceId: ZDeviceId,
  revokedAt: ZIsoDate,
  /** instance id of the server that revoked, so it can skip its own announcement */
  origin: z.string().min(1).max(100),
});
export type TDeviceRevokedV1 = z.infer<typeof ZDeviceRevokedV1>;

export const DEVICE_REVOKED_JWS_TYP = "fleet-device-revoked+jws";

/**
 * Sign an announcement with the server's key: on a NATS without per-device identity anyone could publish on the
 * control subject, so instances act only on announcements signed by the fleet's server key.
 */
export async function signDeviceRevoked(msg: TDeviceRevokedV1, serverPrivateKey: CryptoKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(ZDeviceRevokedV1.parse(msg))))
    .setProtectedHeader({ alg: "EdDSA", typ: DEVICE_REVOKED_JWS_TYP })
    .sign(serverPrivateKey);
}

/** Verify and parse an announcement; never throws. */
export async function openDeviceRevoked(data: Uint8Array, serverPublicKey: CryptoKey): Promise<{ ok: true; value: TDeviceRevokedV1 } | { ok: false; detail: string }> {
  const jws = new TextDecoder().decode(data).trim();
  try {
    const { payload, protectedHeader } = await compactVerify(jws, serverPublicKey, { algorithms: ["EdDSA"] });
    if (protectedHeader.typ !== DEVICE_REVOKED_JWS_TYP) return { ok: false, detail: `not a ${DEVICE_REVOKED_JWS_TYP}` };
    const parsed = ZDeviceRevokedV1.safeParse(JSON.parse(new TextDecoder().decode(payload)));
    if (!parsed.success) return { ok: false, detail: `invalid announcement: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
    return { ok: true, value: parsed.data };
  } catch (err) {
    return { ok: false, detail: `not signed by the server key (${(err as Error).message})` };
  }
}

/** Most fleet events one relay message carries. */
export const FLEET_EVENT_BATCH_MAX = 1000;

/**
 * Server -> every other server instance, on core NATS `<prefix>.control.fleet-events`: the fleet events one instance
 * published, in order, for the websocket clients connected to the others. Signed like the revocation announcement.
 */
export const ZFleetEventBatchV1 = z.object({
  v: z.literal(SCHEMA_VERSION),
  /** instance id of the publishing server: it skips its own batches (its clients had the events already) */
  origin: z.string().min(1).max(100),
  /** per-origin counter from 1: receivers can tell a gap (lost batch) from reordering */
  seq: z.number().int().positive(),
  /** empty: a hello (the sender is up and relays its events; peers answer an unknown origin's hello with theirs) */
  events: z.array(ZFleetEventV1).max(FLEET_EVENT_BATCH_MAX),
});
export type TFleetEventBatchV1 = z.infer<typeof ZFleetEventBatchV1>;

export const FLEET_EVENT_BATCH_JWS_TYP = "fleet-event-batch+jws";

/** Sign a batch with the server's key (a device on a NATS without per-device auth cannot forge one). */
export async function signFleetEventBatch(batch: TFleetEventBatchV1, serverPrivateKey: CryptoKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(ZFleetEventBatchV1.parse(batch))))
    .setProtectedHeader({ alg: "EdDSA", typ: FLEET_EVENT_BATCH_JWS_TYP, origin: batch.origin })
    .sign(serverPrivateKey);
}

/**
 * The origin a batch's header claims, read without verifying anything (null if unreadable): an instance skips its own
 * batches before the signature check. Never trust it for anything else.
 */
export function fleetEventBatchOrigin(data: Uint8Array): string | null {
  try {
    const header = new TextDecoder().decode(data.subarray(0, Math.max(0, data.indexOf(0x2e)))); // up to the first "."
    const origin = (JSON.parse(new TextDecoder().decode(base64url.decode(header))) as { origin?: unknown }).origin;
    return typeof origin === "string" ? origin : null;
  } catch {
    return null;
  }
}

/** Verify and parse a batch; never throws. `reason`: "unsigned" (not the server key's) or "malformed". */
export async function openFleetEventBatch(
  data: Uint8Array,
  serverPublicKey: CryptoKey,
): Promise<{ ok: true; value: TFleetEventBatchV1 } | { ok: false; reason: "unsigned" | "malformed"; detail: string }> {
  let payload: Uint8Array;
  let headerOrigin: unknown;
  try {
    const verified = await compactVerify(new TextDecoder().decode(data).trim(), serverPublicKey, { algorithms: ["EdDSA"] });
    if (verified.protectedHeader.typ !== FLEET_EVENT_BATCH_JWS_TYP) return { ok: false, reason: "malformed", detail: `not a ${FLEET_EVENT_BATCH_JWS_TYP}` };
    payload = verified.payload;
    headerOrigin = verified.protectedHeader.origin;
  } catch (err) {
    return { ok: false, reason: "unsigned", detail: `not signed by the server key (${(err as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, reason: "malformed", detail: "payload is not JSON" };
  }
  const parsed = ZFleetEventBatchV1.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "malformed", detail: `invalid batch: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  if (headerOrigin !== parsed.data.origin) return { ok: false, reason: "malformed", detail: "header origin differs from the batch's" };
  return { ok: true, value: parsed.data };
}
