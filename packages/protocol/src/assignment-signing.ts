import { CompactSign, compactVerify, decodeProtectedHeader, type CryptoKey } from "jose";
import { ASSIGNMENT_JWS_TYP, ZAssignmentV1, type TAssignmentV1 } from "./assignment.js";
import { formatIssues } from "./reports.js";

/** Why the agent refused an assignment. */
export type AssignmentRefusal = "malformed" | "bad_signature" | "schema_invalid" | "device_mismatch" | "expired" | "replayed";
export type OpenAssignmentResult = { ok: true; value: TAssignmentV1 } | { ok: false; reason: AssignmentRefusal; detail: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Sign a device's assignment with the server's key. */
export async function signAssignment(assignment: TAssignmentV1, serverPrivateKey: CryptoKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(ZAssignmentV1.parse(assignment))))
    .setProtectedHeader({ alg: "EdDSA", typ: ASSIGNMENT_JWS_TYP })
    .sign(serverPrivateKey);
}

export interface OpenAssignmentOptions {
  deviceId: string;
  /** highest version this device accepted before (persisted); anything not higher is refused */
  minVersionExclusive: number;
  /** clock used for expiry (tests pass a fixed one) */
  now?: Date;
}

/**
 * Verify an assignment the way the agent must before acting on it: the server's signature, the schema, the device
 * it is addressed to, expiry and that its version is higher than any accepted before (no replay). Never throws.
 */
export async function openAssignment(data: Uint8Array | string, serverKey: CryptoKey | Uint8Array, opts: OpenAssignmentOptions): Promise<OpenAssignmentResult> {
  let payload: Uint8Array;
  try {
    const jws = (typeof data === "string" ? data : decoder.decode(data)).trim();
    if (decodeProtectedHeader(jws).typ !== ASSIGNMENT_JWS_TYP) return { ok: false, reason: "malformed", detail: "not a fleet assignment" };
    ({ payload } = await compactVerify(jws, serverKey, { algorithms: ["EdDSA"] }));
  } catch {
    return { ok: false, reason: "bad_signature", detail: "assignment is not signed by the server" };
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: "malformed", detail: "payload is not JSON" };
  }
  const parsed = ZAssignmentV1.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "schema_invalid", detail: formatIssues(parsed.error) };
  const a = parsed.data;
  if (a.deviceId !== opts.deviceId) return { ok: false, reason: "device_mismatch", detail: `assignment for ${a.deviceId}` };
  const now = opts.now ?? new Date();
  if (Date.parse(a.expiresAt) <= now.getTime()) return { ok: false, reason: "expired", detail: `assignment ${a.version} expired at ${a.expiresAt}` };
  if (a.version <= opts.minVersionExclusive) {
    return { ok: false, reason: "replayed", detail: `assignment version ${a.version} is not newer than ${opts.minVersionExclusive}` };
  }
  return { ok: true, value: a };
}
