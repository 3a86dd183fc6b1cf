import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { CompliancePolicyIds, ZCompliancePolicyId, type TComplianceReportV1 } from "@fleet/protocol";
import { getComplianceReport, listViolations, type TComplianceViolationListV1 } from "../../lib/api/compliance";
import { describeError } from "../../lib/describeError";
import { formatDateTime } from "../../lib/format/index";
import { firstParam, searchString } from "../../lib/query";
import { ApiErrorPanel } from "../../ui/common/ApiErrorPanel";
import { evidenceLine, PolicyStatusBadge } from "../../ui/compliance/PolicyStatusBadge";
import { ViolationsChart } from "../../ui/compliance/ViolationsChart";
import { DestinationsTable } from "../../ui/compliance/DestinationsTable";
import { violationSeries } from "../../ui/compliance/violationSeries";
import { Pagination } from "../../ui/devices/Pagination";

export const metadata: Metadata = { title: "Compliance" };

const PAGE_SIZE = 50;
const STATUSES = ["pass", "fail"] as const;
type SearchParams = Record<string, string | string[] | undefined>;

export default async function CompliancePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const sp = await searchParams;
  const policyParam = ZCompliancePolicyId.safeParse(firstParam(sp.policy));
  const statusParam = firstParam(sp.status);
  const filters = {
    policy: policyParam.success ? policyParam.data : undefined,
    status: STATUSES.find((s) => s === statusParam),
    q: firstParam(sp.q)?.slice(0, 200),
  };
  const page = Math.max(1, Number.parseInt(firstParam(sp.page) ?? "1", 10) || 1);
  const filterQs = searchString(filters);

  const header = (
    <>
      <h1>Compliance</h1>
      <p className="subtitle">Each device against each policy, with the evidence; where the fleet sends data; violations over time.</p>
    </>
  );

  let report: TComplianceReportV1;
  let violations: TComplianceViolationListV1;
  try {
    [report, violations] = await Promise.all([getComplianceReport(), listViolations({ state: "all", limit: 1000 })]);
  } catch (e) {
    return (
      <>
        {header}
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }

  const q = filters.q?.toLowerCase();
  const rows = report.devices.flatMap((d) =>
    d.results
      .filter((r) => (!filters.policy || r.policy === filters.policy) && (!filters.status || r.status === filters.status))
      .filter(() => !q || d.hostname.toLowerCase().includes(q) || d.deviceId.toLowerCase().includes(q))
      .map((r) => ({ device: d, result: r })),
  );
  const pageRows = rows.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const t = report.totals;

  return (
    <>
      {header}
      <section className="panel" aria-label="Fleet totals">
        <h2>Fleet totals</h2>
        <div className="cards" data-testid="compliance-totals">
          {(
            [
              ["Devices", t.devices],
              ["Passing", t.passing],
              ["Failing", t.failing],
              ["No data", t.noData],
              ["Open violations", t.openViolations],
            ] as const
          ).map(([label, value]) => (
            <div className="card" key={label}>
              <div className="label">{label}</div>
              <div className="value">{value}</div>
            </div>
          ))}
        </div>
        <p>
          Download:{" "}
          <a href="/compliance/export/csv" download>CSV</a> · <a href="/compliance/export/json" download>Signed JSON</a> ·{" "}
          <a href="/compliance/export/pdf" download>PDF</a> · <a href="/compliance/export/destinations-csv" download>Destinations CSV</a>
        </p>
        <p className="muted">Report generated {formatDateTime(report.generatedAt)}.</p>
      </section>

      <section className="panel" aria-label="Device results">
        <h2>Devices × policies</h2>
        <form className="filters" method="get" action="/compliance" role="search">
          <label>
            Policy
            <select name="policy" defaultValue={filters.policy ?? ""}>
              <option value="">All</option>
              {CompliancePolicyIds.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="status" defaultValue={filters.status ?? ""}>
              <option value="">All</option>
              <option value="pass">Pass</option>
              <option value="fail">Fail</option>
            </select>
          </label>
          <label>
            Device
            <input type="search" name="q" defaultValue={filters.q ?? ""} maxLength={200} placeholder="hostname or id" />
          </label>
          <button type="submit">Filter</button>
        </form>
        {rows.length === 0 ? (
          <div className="empty">
            <p>{report.devices.length === 0 ? "No devices yet: enroll one and its posture is evaluated on its first report." : "No results match these filters."}</p>
            {filterQs ? <Link href="/compliance">Clear the filters</Link> : null}
          </div>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Policy</th>
                    <th scope="col">Status</th>
                    <th scope="col">Evidence</th>
                    <th scope="col">Last posture</th>
                  </tr>
                </thead>
                <tbody>
                  {pageRows.map(({ device, result }) => (
                    <tr key={`${device.deviceId}:${result.policy}`} data-testid="compliance-row">
                      <td style={{ whiteSpace: "nowrap" }}>
                        <Link href={`/compliance/devices/${encodeURIComponent(device.deviceId)}`}>{device.hostname}</Link>
                      </td>
                      <td><code>{result.policy}</code></td>
                      <td><PolicyStatusBadge status={result.status} /></td>
                      <td className="mono muted">
                        {result.findings.length === 0 ? "—" : result.findings.map((f) => (
                          <div key={f.subject}>{f.detail} {evidenceLine(f.evidence, 120)}</div>
                        ))}
                      </td>
                      <td className="mono">{device.lastPostureAt ? formatDateTime(device.lastPostureAt) : "never"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={page} pageSize={PAGE_SIZE} total={rows.length} noun={["result", "results"]} hrefFor={(p) => `/compliance${searchString({ ...filters, page: p })}`} />
          </>
        )}
      </section>

      <section className="panel" aria-label="Outbound destinations">
        <h2>Outbound destinations</h2>
        {report.destinations.length === 0 ? (
          <p className="muted">No destinations declared or observed yet.</p>
        ) : (
          <DestinationsTable destinations={report.destinations} withDeviceCounts />
        )}
      </section>

      <section className="panel" aria-label="Violations over time">
        <h2>Violations, last 30 days</h2>
        <ViolationsChart data={violationSeries(violations.items, new Date())} />
      </section>
    </>
  );
}
