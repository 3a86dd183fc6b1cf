import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { formatIssues, ZAuditListQueryV1 } from "@fleet/protocol";
import { listAudit } from "../../lib/api";
import { describeError } from "../../lib/describeError";
import { formatDateTime } from "../../lib/format/index";
import { firstParam, isoToLocalInput, localInputToIso, searchString } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";
import { Pagination } from "../../ui/devices/Pagination";

export const metadata: Metadata = { title: "Audit log" };

const PAGE_SIZE = 50;
type SearchParams = Record<string, string | string[] | undefined>;

/** Details as one short line: the JSON, cut for the table (the CSV export has it whole). */
function detailsLine(details: unknown): string {
  if (details === null || details === undefined) return "";
  const s = JSON.stringify(details);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const filters = {
    actor: firstParam(sp.actor),
    action: firstParam(sp.action),
    targetType: firstParam(sp.targetType),
    targetId: firstParam(sp.targetId),
    from: localInputToIso(firstParam(sp.from)),
    to: localInputToIso(firstParam(sp.to)),
  };
  const query = ZAuditListQueryV1.safeParse({ ...filters, page: firstParam(sp.page), pageSize: PAGE_SIZE });
  const filterQs = searchString(filters);

  const header = (
    <>
      <h1>Audit log</h1>
      <p className="subtitle">Who did what, when, to what: sign-ins, approvals, rollouts, enrollments and refusals.</p>
      <form className="filters" method="get" action="/audit" role="search">
        <label>
          Actor
          <input type="search" name="actor" defaultValue={filters.actor ?? ""} maxLength={200} placeholder="e.g. ana@" />
        </label>
        <label>
          Action
          <input type="text" name="action" defaultValue={filters.action ?? ""} maxLength={200} placeholder="e.g. rollout." size={16} />
        </label>
        <label>
          Target type
          <input type="text" name="targetType" defaultValue={filters.targetType ?? ""} maxLength={100} size={12} />
        </label>
        <label>
          Target id
          <input type="text" name="targetId" defaultValue={filters.targetId ?? ""} maxLength={200} size={16} />
        </label>
        <label>
          From (UTC)
          <input type="datetime-local" name="from" defaultValue={isoToLocalInput(filters.from)} />
        </label>
        <label>
          To (UTC)
          <input type="datetime-local" name="to" defaultValue={isoToLocalInput(filters.to)} />
        </label>
        <button type="submit">Filter</button>
        <a className="button secondary" href={`/audit/export${filterQs}`} download>
          Export CSV
        </a>
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
            <Link href="/audit">Show all entries</Link>
          </p>
        </ErrorPanel>
      </>
    );
  }

  let list;
  try {
    list = await listAudit(query.data);
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
          <h2>No audit entries{filterQs ? " match these filters" : " yet"}</h2>
          {filterQs ? <Link href="/audit">Clear the filters</Link> : <p className="muted">Actions taken through the console, the CLI or the API appear here.</p>}
        </section>
      ) : (
        <section className="panel" aria-label="Audit entries">
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((e) => (
                  <tr key={e.id}>
                    <td className="mono">{formatDateTime(e.at)}</td>
                    <td>
                      <Link href={`/audit${searchString({ ...filters, actor: e.actor })}`}>{e.actor}</Link>
                    </td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      {e.targetType ? (
                        <Link href={`/audit${searchString({ targetType: e.targetType, targetId: e.targetId ?? undefined })}`}>
                          {e.targetType}
                          {e.targetId ? ` ${e.targetId}` : ""}
                        </Link>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className="mono muted">{detailsLine(e.details)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination
            page={list.page}
            pageSize={list.pageSize}
            total={list.total}
            noun={["entry", "entries"]}
            hrefFor={(page) => `/audit${searchString({ ...filters, from: firstParam(sp.from), to: firstParam(sp.to), page })}`}
          />
        </section>
      )}
    </>
  );
}
