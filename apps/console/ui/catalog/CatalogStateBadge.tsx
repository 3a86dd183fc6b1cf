import type { TCatalogState } from "@fleet/protocol";

const LOOK: Record<TCatalogState, { label: string; cls: string }> = {
  draft: { label: "Draft", cls: "badge-never_seen" },
  approved: { label: "Approved", cls: "badge-online" },
  deprecated: { label: "Deprecated", cls: "badge-offline" },
  revoked: { label: "Revoked", cls: "badge-revoked" },
};

/** Catalog entry state as text plus colour (reads without colour too). */
export function CatalogStateBadge({ state }: { state: TCatalogState }) {
  const l = LOOK[state];
  return <span className={`badge ${l.cls}`}>{l.label}</span>;
}
