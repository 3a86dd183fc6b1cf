import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { listCatalog } from "../../lib/api/catalog";
import { getCompatibilitySummary, listCompatibility, ZCompatibilityQueryV1 } from "../../lib/api/compatibility";
import { describeError } from "../../lib/describeError";
import { firstParam, searchString } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../ui/common/ErrorPanel";
import { buildMatrix } from "../../ui/compatibility/buildMatrix";

export const metadata: Metadata = { title: "Compatibility" };

type SearchParams = Record<string, string | string[] | undefined>;

export default async function CompatibilityPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const header = (
    <>
      <h1>Compatibility</h1>
      <p className="subtitle">Approved models × hardware classes: devices where the model runs / devices in the class. Open a cell for its devices and reasons.</p>
    </>
  );
  const drill = ZCompatibilityQueryV1.safeParse({
    entryId: firstParam(sp.entryId),
    hardwareClass: firstParam(sp.hardwareClass),
    page: firstParam(sp.page),
  });
  if (!drill.success) {
    return (
      <>
        {header}
        <ErrorPanel title="Invalid filter">
          <p>The entry, hardware class or page in the address is not valid.</p>
        </ErrorPanel>
      </>
    );
  }
  try {
    const entries = await listCatalog({ state: "approved", pageSize: 200 });
    const matrix = buildMatrix(await Promise.all(entries.items.map((e) => getCompatibilitySummary(e.id))));
    const devices = drill.data.entryId ? await listCompatibility(drill.data) : null;
    return (
      <>
        {header}
        {matrix.rows.length === 0 ? (
          <p className="empty">No approved catalog entries yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Model</th>
                {matrix.hardwareClasses.map((h) => (
                  <th key={h}>{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.rows.map((r) => (
                <tr key={r.entryId}>
                  <td>{r.targetPath}</td>
                  {matrix.hardwareClasses.map((h) => {
                    const c = r.cells[h];
                    return (
                      <td key={h}>
                        {c ? (
                          <Link href={`/compatibility${searchString({ entryId: r.entryId, hardwareClass: h })}`}>
                            {c.runnable} / {c.total}
                          </Link>
                        ) : (
                          "—"
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {devices ? (
          <section>
            <h2>
              Devices {drill.data.hardwareClass ? `in ${drill.data.hardwareClass}` : ""} ({devices.total})
            </h2>
            {devices.items.length === 0 ? (
              <p className="empty">No devices in this cell.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Device</th>
                    <th>Class</th>
                    <th>GPU layers</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {devices.items.map((d) => (
                    <tr key={d.deviceId}>
                      <td>
                        <Link href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.hostname}</Link>
                      </td>
                      <td>{d.class}</td>
                      <td>
                        {d.gpuLayers} / {d.totalLayers}
                      </td>
                      <td>{d.reason ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ) : null}
      </>
    );
  } catch (e) {
    return (
      <>
        {header}
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
}
