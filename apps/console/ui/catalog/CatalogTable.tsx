import Link from "next/link";
import type { TCatalogEntryV1 } from "@fleet/protocol";
import { formatBytes, shortSha } from "../../lib/format/index";
import { CatalogStateBadge } from "./CatalogStateBadge";
import { QualityCell } from "./QualityCell";

/** The catalog list: one row per entry with the facts an approver compares. */
export function CatalogTable({ items }: { items: TCatalogEntryV1[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Quantization</th>
            <th scope="col" className="num">Size</th>
            <th scope="col">SHA-256</th>
            <th scope="col">License</th>
            <th scope="col">Source</th>
            <th scope="col">State</th>
            <th scope="col">Quality</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>
                <Link href={`/catalog/${e.id}`}>{e.facts.name}</Link>
              </td>
              <td className="mono">{e.facts.version}</td>
              <td>
                {e.facts.quantization.type} <span className="muted">({e.facts.quantization.bits}-bit)</span>
              </td>
              <td className="num">{formatBytes(e.facts.fileSizeBytes)}</td>
              <td className="mono" title={e.facts.sha256}>
                {shortSha(e.facts.sha256)}
              </td>
              <td>{e.facts.license || "—"}</td>
              <td>
                {e.facts.source.repository} <span className="muted mono">@{e.facts.source.revision}</span>
              </td>
              <td>
                <CatalogStateBadge state={e.state} />
              </td>
              <td>
                <QualityCell quality={e.quality} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
