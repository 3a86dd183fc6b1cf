import type { TCatalogQualityV1 } from "@fleet/protocol";

/** "ppl 12.34 · top-1 97.5%" plus the gate verdict; "not measured" when the entry has no score. */
export function QualityCell({ quality }: { quality: TCatalogQualityV1 | null | undefined }) {
  if (!quality) return <span className="muted">not measured</span>;
  return (
    <span>
      ppl {quality.perplexity.toFixed(2)} · top-1 {(quality.top1Agreement * 100).toFixed(1)}%{" "}
      {quality.withinMargin ? (
        <span className="badge badge-no" title="within the server's quality margin">within margin</span>
      ) : (
        <span className="badge badge-fail" title={quality.marginReason ?? undefined}>
          outside margin
        </span>
      )}
    </span>
  );
}
