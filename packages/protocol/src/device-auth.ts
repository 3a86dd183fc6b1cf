import { CompactSign, compactVerify, decodeProtectedHeader, type CryptoKey } from "jose";
import { z } from "zod";
import { ZDeviceId } from "./common.js";

// HTTP requests a device makes to the server (TUF metadata, catalog artifacts) prove who it is with a short-lived
// JWS signed by its enrollment key, bound to the method and path: `Authorization: FleetDevice <jws>`.

export const DEVICE_AUTH_SCHEME = "FleetDevice";
export const DEVICE_AUTH_JWS_TYP = "fleet-device-auth+jws";
/** Longest lifetime the server accepts, and the clock skew it tolerates on iat. */
export const DEVICE_AUTH_MAX_TTL_SEC = 120;
export const DEVICE_AUTH_MAX_SKEW_SEC = 60;

const ZDeviceAuthClaims = z.object({
  deviceId: ZDeviceId,
  method: z.enum(["GET", "HEAD", "POST", "PUT"]),
  /** request path without query, e.g. /api/v1/artifacts/x-1.gguf */
  path: z.string().min(1).max(1000),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type TDeviceAuthClaims = z.infer<typeof ZDeviceAuthClaims>;

const encoder = new TextEncoder();

/** The Authorization header value for one request. */
export async function deviceAuthorization(deviceId: string, method: TDeviceAuthClaims["method"], path: string, privateKey: CryptoKey, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims: TDeviceAuthClaims = { deviceId, method, path: path.split("?")[0]!, iat, exp: iat + 60 };
  const jws = await new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: "EdDSA", kid: deviceId, typ: DEVICE_AUTH_JWS_TYP }).sign(privateKey);
  return `${DEVICE_AUTH_SCHEME} ${jws}`;
}

export type DeviceAuthResult = { ok: true; deviceId: string } | { ok: false; reason: string };

/**
 * Check a device Authorization header for this request. `resolveKey` returns the active device's public key or null
 * (unknown or revoked). Never throws.
 */
export async function verifyDeviceAuthorization(
  header: string | undefined,
  request: { method: string; path: string },
  resolveKey: (deviceId: string) => Promise<CryptoKey | Uint8Array | null>,
  now = Date.now(),
): Promise<DeviceAuthResult> {
  if (!header) return { ok: false, reason: "missing device authorization" };
  const [scheme, jws, extra] = header.trim().split(/\s+/);
  if (scheme !== DEVICE_AUTH_SCHEME || !jws || extra !== undefined) return { ok: false, reason: `authorization must be "${DEVICE_AUTH_SCHEME} <jws>"` };
  let kid: unknown;
  try {
    const h = decodeProtectedHeader(jws);
    if (h.typ !== DEVICE_AUTH_JWS_TYP || h.alg !== "EdDSA") return { ok: false, reason: "not a device authorization token" };
    kid = h.kid;
  } catch {
    return { ok: false, reason: "unreadable device authorization" };
  }
  const id = ZDeviceId.safeParse(kid);
  if (!id.success) return { ok: false, reason: "device authorization has no valid kid" };
  const key = await resolveKey(id.data);
  if (!key) return { ok: false, reason: "unknown or revoked device" };
  let claims: TDeviceAuthClaims;
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: ["EdDSA"] });
    const parsed = ZDeviceAuthClaims.safeParse(JSON.parse(new TextDecoder().decode(payload)));
    if (!parsed.success) return { ok: false, reason: "device authorization claims are invalid" };
    claims = parsed.data;
  } catch {
    return { ok: false, reason: "device authorization signature does not verify" };
  }
  const sec = Math.floor(now / 1000);
  if (claims.deviceId !== id.data) return { ok: false, reason: "device authorization names another device" };
  if (claims.exp - claims.iat > DEVICE_AUTH_MAX_TTL_SEC) return { ok: false, reason: "device authorization lives too long" };
  if (claims.iat > sec + DEVICE_AUTH_MAX_SKEW_SEC || claims.exp < sec - DEVICE_AUTH_MAX_SKEW_SEC) return { ok: false, reason: "device authorization expired" };
  const method = request.method.toUpperCase() === "HEAD" ? "GET" : request.method.toUpperCase();
  const claimed = claims.method === "HEAD" ? "GET" : claims.method;
  if (claimed !== method || claims.path !== request.path.split("?")[0]) return { ok: false, reason: "device authorization is for another request" };
  return { ok: true, deviceId: id.data };
}
