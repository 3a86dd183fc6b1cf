import { Readable } from "node:stream";
import { stringify } from "csv-stringify";
import PDFDocument from "pdfkit";
import type { TComplianceReportV1 } from "@fleet/protocol";

/** The CSV columns: one row per device and policy (the drill-down an auditor filters in a spreadsheet). */
export const CSV_COLUMNS = ["deviceId", "hostname", "deviceStatus", "lastPostureAt", "policy", "status", "findingCount", "subjects", "evidence"] as const;

/**
 * The report as CSV, streamed row by row through csv-stringify (quoting and embedded newlines are its job, not ours;
 * escape_formulas keeps a device-supplied hostname such as "=HYPERLINK(...)" from running in a spreadsheet).
 * Evidence is the findings as JSON so nothing is lost in a cell.
 */
export function complianceCsv(report: TComplianceReportV1): Readable {
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS], escape_formulas: true });
  const rows = (function* () {
    for (const d of report.devices) {
      for (const r of d.results) {
        yield {
          deviceId: d.deviceId,
          hostname: d.hostname,
          deviceStatus: d.status,
          lastPostureAt: d.lastPostureAt ?? "",
          policy: r.policy,
          status: r.status,
          findingCount: r.findings.length,
          subjects: r.findings.map((f) => f.subject).join(" "),
          evidence: r.findings.length ? JSON.stringify(r.findings) : "",
        };
      }
    }
  })();
  return Readable.from(rows).pipe(csv);
}

/** The destinations CSV: one row per outbound destination seen across the fleet (declared and/or in ledgers). */
export const DESTINATION_CSV_COLUMNS = ["destination", "source", "purposes", "deviceCount", "observedDeviceCount", "bytesSent", "bytesReceived", "bytes", "addresses"] as const;

export function destinationsCsv(report: TComplianceReportV1): Readable {
  const csv = stringify({ header: true, columns: [...DESTINATION_CSV_COLUMNS], escape_formulas: true });
  const rows = report.destinations.map((d) => ({
    destination: d.destination,
    source: d.source ?? "declared",
    purposes: d.purposes.join(" "),
    deviceCount: d.deviceCount,
    observedDeviceCount: d.observedDeviceCount ?? 0,
    bytesSent: d.bytesSent ?? "",
    bytesReceived: d.bytesReceived ?? "",
    bytes: d.bytes ?? "",
    addresses: (d.addresses ?? []).join(" "),
  }));
  return Readable.from(rows).pipe(csv);
}

/** A printable PDF: date, scope, totals, per-policy counts, failing devices with their findings, destinations. */
export function compliancePdf(report: TComplianceReportV1): Readable {
  const doc = new PDFDocument({ size: "A4", margin: 50, info: { Title: "Fleetwise compliance report", Creator: "fleet-server" } });
  doc.fontSize(18).text("Fleetwise compliance report");
  doc.moveDown(0.5).fontSize(10);
  doc.text(`Generated: ${report.generatedAt}`);
  doc.text(`Scope: ${report.scope.devices === "all" ? "all active devices" : "selected devices"} (${report.scope.deviceIds.length})`);
  const t = report.totals;
  doc.moveDown().fontSize(13).text("Totals");
  doc.fontSize(10).text(`Devices: ${t.devices}   passing: ${t.passing}   failing: ${t.failing}   no data: ${t.noData}   open violations: ${t.openViolations}`);
  doc.moveDown().fontSize(13).text("Policies");
  doc.fontSize(10);
  for (const p of t.byPolicy) {
    const policy = report.policies.find((x) => x.id === p.policy);
    const extra = p.policy === "outbound_allowlist" ? ` allowlist: ${policy?.allowlist.join(", ") || "(empty)"}` : p.policy === "telemetry_max" ? ` at most: ${policy?.maxTelemetry}` : "";
    doc.text(`${p.policy} (${policy?.enabled ? "enabled" : "disabled"}${extra}): pass ${p.pass}, fail ${p.fail}, no data ${p.noData}`);
  }
  doc.moveDown().fontSize(13).text("Devices");
  doc.fontSize(10);
  for (const d of report.devices) {
    doc.font("Helvetica-Bold").text(`${d.hostname} (${d.deviceId}): ${d.status}`);
    doc.font("Helvetica");
    for (const r of d.results.filter((x) => x.status === "fail")) {
      for (const f of r.findings) doc.text(`  ${r.policy}: ${f.detail} (since ${f.firstSeenAt})`, { indent: 10 });
    }
  }
  doc.moveDown().fontSize(13).text("Outbound destinations (declared, and observed in the devices' outbound ledgers)");
  doc.fontSize(10);
  for (const x of report.destinations) {
    const seen = x.bytes === null ? "never observed" : `sent ${x.bytesSent ?? "?"} B, received ${x.bytesReceived ?? "?"} B, seen on ${x.observedDeviceCount ?? 0} device(s)`;
    const addr = x.addresses?.length ? `  via ${x.addresses.join(", ")}` : "";
    doc.text(`${x.destination}  [${x.purposes.join(", ")}]  ${x.source ?? "declared"}  devices: ${x.deviceCount}  ${seen}${addr}`);
  }
  doc.end();
  return doc as unknown as Readable;
}
