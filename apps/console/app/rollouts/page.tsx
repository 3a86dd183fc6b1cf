import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { listRollouts, ZRolloutListQuery } from "../../lib/api/rollouts";
import { describeError } from "../../lib/describeError";
import { formatDateTime } from "../../lib/format/index";
import { can } from "../../lib/roles";
import { firstParam } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";

export const metadata: Metadata = { title: "Rollouts" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function RolloutsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const mayStart = await can("operator");
  const query = ZRolloutListQuery.safeParse({ page: firstParam(sp.page), state: firstParam(sp.state) });
  const header = (
    <>
      <h1>Rollouts</h1>
      <p className="subtitle">Staged model rollouts: rings, gates and device progress.</p>
      {mayStart && (
        <p>
          <Link className="button" href="/rollouts/new">
            New rollout
          </Link>
        </p>
      )}
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
    list = await listRollouts(query.data);
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
      {list.items.length === 0 ? (
        <p className="empty">No rollouts yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Rollout</th>
              <th>Target</th>
              <th>Group</th>
              <th>State</th>
              <th>Ring</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link href={`/rollouts/${r.id}`}>{r.id.slice(0, 8)}</Link>
                </td>
                <td>{r.targetPath}</td>
                <td>{r.group ?? "all compatible"}</td>
                <td>{r.state}</td>
                <td>
                  {r.currentRing + 1} / {r.rings.length}
                </td>
                <td>{formatDateTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
