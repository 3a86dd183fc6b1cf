import type { PolicyStatus } from "@fleet/protocol";

const LABELS: Record<PolicyStatus, string> = { pass: "Pass", fail: "Fail", no_data: "No data", disabled: "Disabled" };
const CLASS: Record<PolicyStatus, string> = { pass: "online", fail: "revoked", no_data: "never_seen", disabled: "offline" };

/** Policy result as text plus colour (reuses the device status badge colours). */
export function PolicyStatusBadge({ status }: { status: PolicyStatus }) {
  return <span className={`badge badge-${CLASS[status]}`}>{LABELS[status]}</span>;
}

/** Evidence as one short line of JSON for tables (exports carry it whole). */
export function evidenceLine(evidence: unknown, max = 200): string {
  const s = JSON.stringify(evidence);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
