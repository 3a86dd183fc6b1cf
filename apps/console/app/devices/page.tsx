import { connection } from "next/server";
import { formatIssues, ZDeviceListQueryV1, type TDeviceSort } from "@fleet/protocol";
import { deviceListSearch, listDevices } from "../../lib/api";
import { describeError } from "../../lib/describeError";
import { consoleEnv } from "../../lib/env";
import { toggleSort } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";
import { DeviceTable } from "../../ui/devices/DeviceTable";
import { EmptyFleet } from "../../ui/devices/EmptyFleet";
import { NoMatches } from "../../ui/devices/NoMatches";
import { Pagination } from "../../ui/devices/Pagination";
import { LiveUpdates } from "../../ui/live/LiveUpdates";
import { DeviceFilters } from "./page-client";

const PAGE_SIZE = 25;

type SearchParams = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

export default async function FleetInventoryPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const raw = {
    page: first(sp.page),
    pageSize: first(sp.pageSize) ?? PAGE_SIZE,
    status: first(sp.status),
    q: first(sp.q),
    gpuVendor: first(sp.gpuVendor),
    modelSha256: first(sp.modelSha256),
    sort: first(sp.sort),
  };
  const query = ZDeviceListQueryV1.safeParse(raw);

  const header = (
    <>
      <h1>Devices</h1>
      <p className="subtitle">Workstations running local inference, their hardware and the models on them.</p>
      <DeviceFilters status={raw.status ?? ""} q={raw.q ?? ""} gpuVendor={raw.gpuVendor ?? ""} modelSha256={raw.modelSha256 ?? ""} sort={raw.sort ?? ""} />
      <LiveUpdates deviceId={null} />
    </>
  );

  if (!query.success) {
    return (
      <>
        {header}
        <ErrorPanel title="Invalid filter">
          <p>{formatIssues(query.error)}</p>
          <p>
            <a href="/devices">Show all devices</a>
          </p>
        </ErrorPanel>
      </>
    );
  }

  const { page, ...filters } = query.data;
  let list;
  try {
    list = await listDevices({ ...filters, page });
  } catch (e) {
    return (
      <>
        {header}
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }

  const filtered = Boolean(filters.status || filters.q || filters.gpuVendor || filters.modelSha256);
  const now = new Date();
  return (
    <>
      {header}
      {list.total === 0 ? (
        filtered ? <NoMatches /> : <EmptyFleet serverUrl={consoleEnv().FLEET_SERVER_URL} />
      ) : (
        <section className="panel" aria-label="Devices">
          <DeviceTable
            devices={list.items}
            now={now}
            sortLink={(column) => {
              const { next, state } = toggleSort(filters.sort, column, "hostname");
              return { href: `/devices${deviceListSearch({ ...filters, pageSize: filters.pageSize === PAGE_SIZE ? undefined : filters.pageSize, sort: next === "hostname" ? undefined : (next as TDeviceSort) })}`, state };
            }}
          />
          <Pagination
            page={list.page}
            pageSize={list.pageSize}
            total={list.total}
            hrefFor={(page) => `/devices${deviceListSearch({ ...filters, pageSize: filters.pageSize === PAGE_SIZE ? undefined : filters.pageSize, page })}`}
          />
        </section>
      )}
    </>
  );
}
