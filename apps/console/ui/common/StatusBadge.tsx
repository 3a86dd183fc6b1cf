import type { TDeviceSummaryV1 } from "@fleet/protocol";

const LABELS: Record<TDeviceSummaryV1["status"], string> = {
  online: "Online",
  offline: "Offline",
  never_seen: "Never seen",
  revoked: "Revoked",
};

/** Device status as text plus colour, so it reads without colour too. */
export function StatusBadge({ status }: { status: TDeviceSummaryV1["status"] }) {
  return <span className={`badge badge-${status}`}>{LABELS[status]}</span>;
}
