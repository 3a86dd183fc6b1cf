import { KeyObject, sign } from "node:crypto";
import { ASSIGNMENT_JWS_TYP, ZAssignmentV1, type TAssignmentV1 } from "@fleet/protocol";
import type { CryptoKey } from "jose";

const HEADER = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: ASSIGNMENT_JWS_TYP })).toString("base64url");

/**
 * Sign many assignments as compact JWS, byte-for-byte the format of @fleet/protocol signAssignment (EdDSA,
 * typ fleet-assignment+jws; agents verify with openAssignment), with node:crypto's synchronous Ed25519: a bulk
 * rollout signs 10,000 at once, and WebCrypto's per-call promise overhead dominated that.
 */
export function signAssignments(assignments: TAssignmentV1[], serverPrivateKey: CryptoKey): string[] {
  const key = KeyObject.from(serverPrivateKey);
  return assignments.map((a) => {
    const payload = Buffer.from(JSON.stringify(ZAssignmentV1.parse(a))).toString("base64url");
    const input = `${HEADER}.${payload}`;
    return `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
  });
}
