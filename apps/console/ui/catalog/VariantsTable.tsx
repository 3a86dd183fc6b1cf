import Link from "next/link";
import type { TCatalogVariantsV1 } from "@fleet/protocol";
import { formatBytes } from "../../lib/format/index";
import { CatalogStateBadge } from "./CatalogStateBadge";
import { QualityCell } from "./QualityCell";

const tps = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} tok/s`);

/** Every quantization of one source model side by side: size, speed (device benchmarks) and quality. */
export function VariantsTable({ variants, currentId }: { variants: TCatalogVariantsV1; currentId: string }) {
  const items = [...variants.items].sort((a, b) => b.entry.facts.quantization.bits - a.entry.facts.quantization.bits || a.entry.facts.fileSizeBytes - b.entry.facts.fileSizeBytes);
  return (
    <div className="table-wrap">
      <table>
        <caption>
          {variants.sourceModel.repository} · {variants.sourceModel.architecture} · {(variants.sourceModel.parameterCount / 1e6).toFixed(1)} M parameters
        </caption>
        <thead>
          <tr>
            <th scope="col">Quantization</th>
            <th scope="col">Entry</th>
            <th scope="col" className="num">Size</th>
            <th scope="col" className="num">RAM at context</th>
            <th scope="col" className="num">Generation</th>
            <th scope="col" className="num">Prompt</th>
            <th scope="col">Quality</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {items.map(({ entry, speed }) => (
            <tr key={entry.id} aria-current={entry.id === currentId ? "true" : undefined} style={entry.id === currentId ? { fontWeight: 600 } : undefined}>
              <th scope="row">
                {entry.facts.quantization.type} <span className="muted">({entry.facts.quantization.bits}-bit)</span>
              </th>
              <td>
                {entry.id === currentId ? (
                  `${entry.facts.name} ${entry.facts.version} (this entry)`
                ) : (
                  <Link href={`/catalog/${entry.id}`}>
                    {entry.facts.name} {entry.facts.version}
                  </Link>
                )}
              </td>
              <td className="num">{formatBytes(entry.facts.fileSizeBytes)}</td>
              <td className="num">{formatBytes(entry.facts.memory.ramBytes)}</td>
              <td className="num">{tps(speed?.tgTokensPerSecMedian)}</td>
              <td className="num">
                {tps(speed?.ppTokensPerSecMedian)}
                {speed ? <span className="muted"> ({speed.runs} runs)</span> : null}
              </td>
              <td>
                <QualityCell quality={entry.quality} />
              </td>
              <td>
                <CatalogStateBadge state={entry.state} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Speed: median of completed device benchmarks of each file (— = never benchmarked). Quality: perplexity and top-1 agreement against the reference variant.</p>
    </div>
  );
}
