import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import type { TComplianceReportV1 } from "@fleet/protocol";
import { getComplianceReport, listViolations, type TComplianceViolationListV1 } from "../../../../lib/api/compliance";
import { describeError } from "../../../../lib/describeError";
import { formatDateTime } from "../../../../lib/format/index";
import { ApiErrorPanel } from "../../../../ui/common/ApiErrorPanel";
import { ErrorPanel } from "../../../../ui/common/ErrorPanel";
import { evidenceLine, PolicyStatusBadge } from "../../../../ui/compliance/PolicyStatusBadge";
import { DestinationsTable } from "../../../../ui/compliance/DestinationsTable";

export const metadata: Metadata = { title: "Device compliance" };

export default async function DeviceCompliancePage({ params }: { params: Promise<{ id: string }> }) {
  await connection();
  const { id } = await params;
  const back = (
    <p>
      <Link href="/compliance">← Compliance</Link>
    </p>
  );

  let report: TComplianceReportV1;
  let violations: TComplianceViolationListV1;
  try {
    [report, violations] = await Promise.all([getComplianceReport([id]), listViolations({ deviceId: id, state: "all", limit: 1000 })]);
  } catch (e) {
    return (
      <>
        {back}
        <h1>Device compliance</h1>
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  const device = report.devices.find((d) => d.deviceId === id);
  if (!device) {
    return (
      <>
        {back}
        <h1>Device compliance</h1>
        <ErrorPanel title="Device not found">
          <p>No device with id {id} is in the compliance report (it may be revoked or never enrolled).</p>
        </ErrorPanel>
      </>
    );
  }

  return (
    <>
      {back}
      <h1>{device.hostname}</h1>
      <p className="subtitle">
        <PolicyStatusBadge status={device.status} /> · last posture {device.lastPostureAt ? formatDateTime(device.lastPostureAt) : "never"} ·{" "}
        <Link href={`/devices/${encodeURIComponent(id)}`}>device page</Link> ·{" "}
        <a href={`/compliance/export/csv?deviceIds=${encodeURIComponent(id)}`} download>CSV</a> ·{" "}
        <a href={`/compliance/export/json?deviceIds=${encodeURIComponent(id)}`} download>Signed JSON</a> ·{" "}
        <a href={`/compliance/export/pdf?deviceIds=${encodeURIComponent(id)}`} download>PDF</a>
      </p>

      <section className="panel" aria-label="Policies">
        <h2>Policies</h2>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Status</th>
                <th scope="col">Findings and evidence</th>
              </tr>
            </thead>
            <tbody>
              {device.results.map((r) => (
                <tr key={r.policy} data-testid="device-policy-row">
                  <td><code>{r.policy}</code></td>
                  <td><PolicyStatusBadge status={r.status} /></td>
                  <td>
                    {r.findings.length === 0
                      ? "—"
                      : r.findings.map((f) => (
                          <div key={f.subject}>
                            <strong>{f.subject}</strong>: {f.detail}{" "}
                            <span className="mono muted">{evidenceLine(f.evidence, 300)}</span>{" "}
                            <span className="muted">(first {formatDateTime(f.firstSeenAt)}, last {formatDateTime(f.lastSeenAt)})</span>
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="panel" aria-label="Violations">
        <h2>Violations</h2>
        {violations.items.length === 0 ? (
          <p className="muted">No violations recorded for this device.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Policy</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Detail</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Resolved</th>
                </tr>
              </thead>
              <tbody>
                {violations.items.map((v) => (
                  <tr key={v.id}>
                    <td><code>{v.policy}</code></td>
                    <td className="mono">{v.subject}</td>
                    <td>{v.detail}</td>
                    <td className="mono">{formatDateTime(v.firstSeenAt)}</td>
                    <td className="mono">{formatDateTime(v.lastSeenAt)}</td>
                    <td className="mono">{v.resolvedAt ? formatDateTime(v.resolvedAt) : "open"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="panel" aria-label="Outbound destinations">
        <h2>Outbound destinations</h2>
        {report.destinations.length === 0 ? (
          <p className="muted">No destinations declared or observed for this device.</p>
        ) : (
          <DestinationsTable destinations={report.destinations} withDeviceCounts={false} />
        )}
      </section>
    </>
  );
}
