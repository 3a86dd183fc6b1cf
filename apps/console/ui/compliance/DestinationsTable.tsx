import type { TComplianceReportV1 } from "@fleet/protocol";
import { formatBytes } from "../../lib/format/index";

/** Outbound destinations of a compliance report; the fleet view adds how many devices declared / were seen using each. */
export function DestinationsTable({ destinations, withDeviceCounts }: { destinations: TComplianceReportV1["destinations"]; withDeviceCounts: boolean }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Destination</th>
            <th scope="col">Source</th>
            <th scope="col">Purposes</th>
            <th scope="col">Sent</th>
            <th scope="col">Received</th>
            {withDeviceCounts ? <th scope="col">Devices (declared / observed)</th> : null}
          </tr>
        </thead>
        <tbody>
          {destinations.map((d) => (
            <tr key={d.destination}>
              <td className="mono">{d.destination}</td>
              <td>{d.source ?? "—"}</td>
              <td>{d.purposes.join(", ") || "—"}</td>
              <td>{d.bytesSent == null ? "—" : formatBytes(d.bytesSent)}</td>
              <td>{d.bytesReceived == null ? "—" : formatBytes(d.bytesReceived)}</td>
              {withDeviceCounts ? (
                <td>
                  {d.deviceCount} / {d.observedDeviceCount ?? "—"}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
