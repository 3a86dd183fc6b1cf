import { CompactSign, compactVerify, decodeProtectedHeader, type CryptoKey } from "jose";
import { COMPLIANCE_EXPORT_JWS_TYP, ZComplianceReportV1, ZSignedComplianceExportV1, type TComplianceReportV1, type TSignedComplianceExportV1 } from "./compliance.js";
import { formatIssues } from "./reports.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Sign a compliance report with the server key: the export carries the readable report and the JWS over it. */
export async function signComplianceExport(report: TComplianceReportV1, serverPrivateKey: CryptoKey): Promise<TSignedComplianceExportV1> {
  const jws = await new CompactSign(encoder.encode(JSON.stringify(report)))
    .setProtectedHeader({ alg: "EdDSA", typ: COMPLIANCE_EXPORT_JWS_TYP })
    .sign(serverPrivateKey);
  return { format: "fleet-compliance-export/v1", report, jws };
}

export type ComplianceExportCheck = { ok: true; report: TComplianceReportV1 } | { ok: false; reason: "malformed" | "bad_signature" | "report_edited"; detail: string };

/**
 * Verify a signed export file: the JWS must be the server's signature, and the readable report beside it must be
 * exactly what was signed (an auditor reads the readable copy, so an edit there must fail too).
 */
export async function verifyComplianceExport(text: string, serverPublicKey: CryptoKey | Uint8Array): Promise<ComplianceExportCheck> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: "malformed", detail: `not JSON: ${(err as Error).message}` };
  }
  const parsed = ZSignedComplianceExportV1.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "malformed", detail: `not a compliance export: ${formatIssues(parsed.error)}` };
  let payload: Uint8Array;
  try {
    if (decodeProtectedHeader(parsed.data.jws).typ !== COMPLIANCE_EXPORT_JWS_TYP) return { ok: false, reason: "malformed", detail: "the JWS is not a compliance export" };
    ({ payload } = await compactVerify(parsed.data.jws, serverPublicKey, { algorithms: ["EdDSA"] }));
  } catch (err) {
    return { ok: false, reason: "bad_signature", detail: `the signature does not verify with this key: ${(err as Error).message}` };
  }
  const signed = ZComplianceReportV1.safeParse(JSON.parse(decoder.decode(payload)));
  if (!signed.success) return { ok: false, reason: "malformed", detail: `signed payload is not a report: ${formatIssues(signed.error)}` };
  // Compare as parsed JSON: whitespace or key order of the readable copy may change, its content may not.
  if (sortedJson(JSON.parse(decoder.decode(payload))) !== sortedJson((json as { report: unknown }).report)) {
    return { ok: false, reason: "report_edited", detail: "the readable report differs from the signed one" };
  }
  return { ok: true, report: signed.data };
}

/** JSON with object keys sorted at every level (no node:util here: the console bundles this package for browsers). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
