import { base64url, CompactSign, compactVerify, decodeProtectedHeader, importJWK, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { decodeReport, formatIssues, MAX_REPORT_BYTES, type TReportV1 } from "./reports.js";
import { ZCommandV1, type TCommandV1 } from "./commands.js";
import type { ReportKind } from "./subjects.js";

export const REPORT_JWS_TYP = "fleet-report+jws";
export const COMMAND_JWS_TYP = "fleet-command+jws";

/** Why an incoming report was refused; the server counts rejections by this label. */
export const RejectReason = {
  Oversized: "oversized",
  Malformed: "malformed",
  Unsigned: "unsigned",
  UnknownDevice: "unknown_device",
  BadSignature: "bad_signature",
  DeviceMismatch: "device_mismatch",
  SubjectMismatch: "subject_mismatch",
  SchemaInvalid: "schema_invalid",
  Replayed: "replayed",
  /** sentAt lies further in the future than REPORT_MAX_FUTURE_SKEW_MS: a device clock that jumped ahead */
  ClockSkew: "clock_skew",
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export type OpenResult<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

/**
 * How far in the future a report's sentAt may lie (device clock ahead of the server's). Further is refused:
 * a report stamped in the future would make every later, correctly stamped snapshot look stale.
 */
export const REPORT_MAX_FUTURE_SKEW_MS = 5 * 60_000;

type VerifyKey = CryptoKey | Uint8Array;
type SignKey = CryptoKey;

export async function generateSigningKeyPair(): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

export async function importPublicJwk(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA")) as CryptoKey;
}
export async function importPrivateJwk(jwk: JWK): Promise<CryptoKey> {
  return (await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA")) as CryptoKey;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Node's Buffer where there is one (the server decodes thousands of reports a second: several times faster than
 * jose's atob-based decoder); jose's decoder in browsers, which bundle this package without Buffer.
 */
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: "base64url"): Uint8Array } }).Buffer;
const fromBase64url = (s: string): Uint8Array => (NodeBuffer ? NodeBuffer.from(s, "base64url") : base64url.decode(s));

/** The protected header of a compact JWS whose characters were checked: a JSON object, or null. */
function protectedHeader(jws: string): Record<string, unknown> | null {
  try {
    const header: unknown = JSON.parse(decoder.decode(fromBase64url(jws.slice(0, jws.indexOf(".")))));
    return typeof header === "object" && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Sign a report as a compact JWS whose `kid` is the device id. */
export async function signReport(report: TReportV1, privateKey: SignKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(report)))
    .setProtectedHeader({ alg: "EdDSA", kid: report.deviceId, typ: REPORT_JWS_TYP })
    .sign(privateKey);
}

export interface OpenReportOptions {
  /** device id and kind taken from the NATS subject the message arrived on */
  subject: ReportSubject;
  /** the registered public key of a device, or null if there is no such (active) device */
  resolveKey: (deviceId: string) => Promise<VerifyKey | null>;
}

/** Device id and kind taken from the NATS subject a report arrived on. */
export type ReportSubject = { deviceId: string; kind: ReportKind };

/**
 * A report's compact JWS taken apart and checked up to its signature (splitReportJws): what an Ed25519 verifier needs,
 * and the payload to decode once the signature holds.
 */
export interface ReportJws {
  /** the signer named in the header: the subject's device */
  kid: string;
  /** `<header>.<payload>` as sent */
  signingInput: Uint8Array;
  /** the signature bytes (64 for a well-formed Ed25519 signature; a verifier refuses any other) */
  signature: Uint8Array;
  /** the payload, base64url */
  payload: string;
  /** the whole JWS, for jose's compactVerify */
  compact: string;
}

/**
 * The checks before the signature: size, UTF-8, compact form, the header (EdDSA, our typ, a kid, nothing a verifier
 * must understand) and that the signer is the device the subject names. Never throws. With an Ed25519 check of
 * `signingInput` and decodeReportPayload this is openReport in steps, for a caller that verifies many signatures at
 * once elsewhere (the server, on its verification threads).
 */
export function splitReportJws(data: Uint8Array, subject: ReportSubject): OpenResult<ReportJws> {
  if (data.byteLength > MAX_REPORT_BYTES) {
    return reject("oversized", `${data.byteLength} bytes exceeds ${MAX_REPORT_BYTES}`);
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return reject("malformed", "not UTF-8");
  }
  const jws = text.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/.test(jws)) {
    return looksLikeJson(jws) ? reject("unsigned", "report is not a signed JWS") : reject("malformed", "not a compact JWS");
  }
  const header = protectedHeader(jws);
  if (!header) return reject("malformed", "unreadable JWS header");
  if (header.alg !== "EdDSA" || header.typ !== REPORT_JWS_TYP || typeof header.kid !== "string") {
    return reject("malformed", "JWS header must have alg EdDSA, typ fleet-report+jws and a kid");
  }
  if (header.kid !== subject.deviceId) {
    return reject("device_mismatch", `signed as ${header.kid} but published on ${subject.deviceId}'s subject`);
  }
  // what compactVerify would refuse besides a bad signature: extensions it must understand, unencoded payloads
  if (header.crit !== undefined || header.b64 !== undefined) {
    return reject("bad_signature", `signature does not verify with ${header.kid}'s key (unsupported JWS header parameter)`);
  }
  const signatureAt = jws.lastIndexOf(".");
  let signature: Uint8Array;
  try {
    signature = fromBase64url(jws.slice(signatureAt + 1));
  } catch {
    return badSignature({ kid: header.kid }); // jose's decoder (browsers) throws on an impossible length
  }
  return {
    ok: true,
    value: {
      kid: header.kid,
      // the checked characters are ASCII: when nothing was trimmed, the signing input is a prefix of the bytes as sent
      signingInput: jws.length === data.byteLength ? data.subarray(0, signatureAt) : encoder.encode(jws.slice(0, signatureAt)),
      signature,
      payload: jws.slice(jws.indexOf(".") + 1, signatureAt),
      compact: jws,
    },
  };
}

/** The rejection of a report whose signature does not verify with its device's key. */
export const badSignature = (jws: { kid: string }): OpenResult<never> => reject("bad_signature", `signature does not verify with ${jws.kid}'s key`);

/** After the signature held: the payload's JSON and schema, and that it names its signer and its subject's kind. */
export function decodeReportPayload(jws: ReportJws, subject: ReportSubject): OpenResult<TReportV1> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(fromBase64url(jws.payload)));
  } catch {
    return reject("malformed", "payload is not JSON");
  }
  const decoded = decodeReport(json);
  if (!decoded.ok) return reject("schema_invalid", decoded.reason);
  if (decoded.value.deviceId !== jws.kid) {
    return reject("device_mismatch", `payload names ${decoded.value.deviceId} but is signed by ${jws.kid}`);
  }
  if (decoded.value.kind !== subject.kind) {
    return reject("subject_mismatch", `a ${decoded.value.kind} report on the ${subject.kind} subject`);
  }
  return { ok: true, value: decoded.value };
}

/**
 * Check a raw report the way the server must before trusting any of it: size, signature
 * by the key of the device the subject names, and then the schema. Never throws.
 */
export async function openReport(data: Uint8Array, opts: OpenReportOptions): Promise<OpenResult<TReportV1>> {
  const split = splitReportJws(data, opts.subject);
  if (!split.ok) return split;
  const jws = split.value;
  const key = await opts.resolveKey(jws.kid);
  if (!key) return reject("unknown_device", `no active device ${jws.kid}`);
  try {
    await compactVerify(jws.compact, key, { algorithms: ["EdDSA"] });
  } catch {
    return badSignature(jws);
  }
  return decodeReportPayload(jws, opts.subject);
}

/** Sign a server -> device command with the server's key. */
export async function signCommand(command: TCommandV1, privateKey: SignKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(command)))
    .setProtectedHeader({ alg: "EdDSA", typ: COMMAND_JWS_TYP })
    .sign(privateKey);
}

/** Verify a command with the server's public key and check it is addressed to this device. */
export async function openCommand(data: Uint8Array, serverKey: VerifyKey, deviceId: string): Promise<OpenResult<TCommandV1>> {
  let payload: Uint8Array;
  try {
    const jws = decoder.decode(data).trim();
    const header = decodeProtectedHeader(jws);
    if (header.typ !== COMMAND_JWS_TYP) return reject("malformed", "not a fleet command");
    ({ payload } = await compactVerify(jws, serverKey, { algorithms: ["EdDSA"] }));
  } catch {
    return reject("bad_signature", "command is not signed by the server");
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(payload));
  } catch {
    return reject("malformed", "payload is not JSON");
  }
  const parsed = ZCommandV1.safeParse(json);
  if (!parsed.success) return reject("schema_invalid", formatIssues(parsed.error));
  if (parsed.data.deviceId !== deviceId) return reject("device_mismatch", `command for ${parsed.data.deviceId}`);
  return { ok: true, value: parsed.data };
}

function reject(reason: RejectReason, detail: string): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}

/** Valid JSON that is not a JWS is an unsigned report; anything else is plain garbage. */
function looksLikeJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
