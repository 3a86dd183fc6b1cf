import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { CATALOG_STATES, formatIssues, ZCatalogListQueryV1 } from "@fleet/protocol";
import { listCatalog } from "../../lib/api/catalog";
import { describeError } from "../../lib/describeError";
import { firstParam, searchString } from "../../lib/query";
import { can } from "../../lib/roles";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";
import { CatalogTable } from "../../ui/catalog/CatalogTable";
import { ImportForm } from "../../ui/catalog/ImportForm";
import { Pagination } from "../../ui/devices/Pagination";
import { importEntryAction } from "./actions";

export const metadata: Metadata = { title: "Catalog" };

const PAGE_SIZE = 50;
type SearchParams = Record<string, string | string[] | undefined>;

export default async function CatalogPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const filters = { state: firstParam(sp.state), name: firstParam(sp.name) };
  const query = ZCatalogListQueryV1.safeParse({ ...filters, page: firstParam(sp.page), pageSize: PAGE_SIZE });
  const filterQs = searchString(filters);
  const admin = await can("admin");

  const header = (
    <>
      <h1>Model catalog</h1>
      <p className="subtitle">Quantized packages the fleet may run: facts read from each file, provenance, state and quality.</p>
      {admin ? (
        <details className="panel">
          <summary>Import a model from a file on the server</summary>
          <ImportForm action={importEntryAction} />
        </details>
      ) : null}
      <form className="filters" method="get" action="/catalog" role="search">
        <label>
          Name
          <input type="search" name="name" defaultValue={filters.name ?? ""} maxLength={64} placeholder="exact entry name" />
        </label>
        <label>
          State
          <select name="state" defaultValue={filters.state ?? ""}>
            <option value="">Any</option>
            {CATALOG_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
    </>
  );

  if (!query.success) {
    return (
      <>
        {header}
        <ErrorPanel title="Invalid filter">
          <p>{formatIssues(query.error)}</p>
          <p>
            <Link href="/catalog">Show all entries</Link>
          </p>
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

  return (
    <>
      {header}
      {list.total === 0 ? (
        <section className="panel empty">
          <h2>No catalog entries{filterQs ? " match these filters" : " yet"}</h2>
          {filterQs ? (
            <Link href="/catalog">Clear the filters</Link>
          ) : (
            <p className="muted">{admin ? "Import a GGUF file above, then approve it so rollouts may use it." : "An admin imports and approves models."}</p>
          )}
        </section>
      ) : (
        <section className="panel" aria-label="Catalog entries">
          <CatalogTable items={list.items} />
          <Pagination page={list.page} pageSize={list.pageSize} total={list.total} noun={["entry", "entries"]} hrefFor={(page) => `/catalog${searchString({ ...filters, page })}`} />
        </section>
      )}
    </>
  );
}
