import type { Metadata } from "next";
import { connection } from "next/server";
import { ZCatalogListQueryV1, listCatalog } from "../../lib/api/catalog";
import { describeError } from "../../lib/describeError";
import { formatBytes, formatDateTime, shortSha } from "../../lib/format/index";
import { firstParam } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";
import { groupBySource } from "../../ui/catalog/groupBySource";

export const metadata: Metadata = { title: "Catalog" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function CatalogPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const query = ZCatalogListQueryV1.safeParse({ page: firstParam(sp.page), state: firstParam(sp.state), pageSize: 200 });
  const header = (
    <>
      <h1>Catalog</h1>
      <p className="subtitle">Model entries with provenance, license, hash and state; quantizations of one source model side by side.</p>
    </>
  );
  if (!query.success) {
    return (
      <>
        {header}
        <ErrorPanel title="Invalid filter">
          <p>The page or state in the address is not valid.</p>
        </ErrorPanel>
      </>
    );
  }
  let list;
  try {
    list = await listCatalog(query.data);
  } catch (e) {
    return (
      <>
        {header}
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  if (list.items.length === 0) {
    return (
      <>
        {header}
        <p className="empty">No catalog entries yet.</p>
      </>
    );
  }
  return (
    <>
      {header}
      {groupBySource(list.items).map((group) => (
        <section key={group.key}>
          <h2>Source {group.key}</h2>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Quantization</th>
                <th>Size</th>
                <th>Quality (perplexity / top-1 agreement)</th>
                <th>License</th>
                <th>SHA-256</th>
                <th>State</th>
                <th>Changed</th>
              </tr>
            </thead>
            <tbody>
              {group.entries.map((e) => (
                <tr key={e.id}>
                  <td>{e.facts.name}</td>
                  <td>{e.facts.version}</td>
                  <td>{e.facts.quantization.type}</td>
                  <td>{formatBytes(e.facts.fileSizeBytes)}</td>
                  <td>
                    {e.quality
                      ? `${e.quality.perplexity.toFixed(2)} / ${(e.quality.top1Agreement * 100).toFixed(1)} %${e.quality.referenceEntryId === e.id ? " (reference)" : ""}`
                      : "not measured"}
                  </td>
                  <td>{e.facts.license}</td>
                  <td title={e.facts.sha256}>{shortSha(e.facts.sha256)}</td>
                  <td>{e.state}</td>
                  <td title={e.stateReason ?? undefined}>
                    {formatDateTime(e.stateChangedAt)} by {e.stateChangedBy}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </>
  );
}
