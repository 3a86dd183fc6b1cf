import { CompactSign, compactVerify, type CryptoKey } from "jose";
import { z } from "zod";
import { SCHEMA_VERSION, ZDeviceId, ZIsoDate } from "./common.js";

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
