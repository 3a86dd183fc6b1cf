import Link from "next/link";
import type { TDeviceSummaryV1 } from "@fleet/protocol";
import { formatBytes, formatDateTime, formatRelativeTime, shortSha } from "../../lib/format/index";
import { StatusBadge } from "../common/StatusBadge";

export type SortLink = (column: "hostname" | "lastSeenAt" | "enrolledAt") => { href: string; state: "ascending" | "descending" | "none" };

function SortableTh({ label, column, sortLink }: { label: string; column: "hostname" | "lastSeenAt"; sortLink?: SortLink }) {
  if (!sortLink) return <th scope="col">{label}</th>;
  const { href, state } = sortLink(column);
  return (
    <th scope="col" aria-sort={state}>
      <Link href={href} title={`Sort by ${label.toLowerCase()}`}>
        {label} {state === "ascending" ? "▲" : state === "descending" ? "▼" : ""}
      </Link>
    </th>
  );
}

/** The fleet at a glance: one row per device. `now` is passed in so every row uses the same clock. */
export function DeviceTable({ devices, now, sortLink }: { devices: TDeviceSummaryV1[]; now: Date; sortLink?: SortLink }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">Enrolled devices</caption>
        <thead>
          <tr>
            <SortableTh label="Hostname" column="hostname" sortLink={sortLink} />
            <th scope="col">Status</th>
            <th scope="col">CPU</th>
            <th scope="col" className="num">RAM</th>
            <th scope="col">GPUs</th>
            <th scope="col">OS</th>
            <th scope="col">Models</th>
            <SortableTh label="Last seen" column="lastSeenAt" sortLink={sortLink} />
          </tr>
        </thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.id}>
              <td>
                <Link href={`/devices/${encodeURIComponent(d.id)}`}>{d.hostname}</Link>
                <div className="muted mono">{d.id}</div>
              </td>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td>
                {d.cpu ?? "—"}
                {d.cpuCores !== null ? <div className="muted">{d.cpuCores} cores</div> : null}
              </td>
              <td className="num">{formatBytes(d.ramTotalBytes)}</td>
              <td>
                {d.gpus.length === 0 ? (
                  // No inventory yet means "unknown", not "no GPU".
                  <span className="muted">{d.cpu === null && d.ramTotalBytes === null ? "—" : "none"}</span>
                ) : (
                  <ul>
                    {d.gpus.map((g, i) => (
                      <li key={i}>
                        {g.vendor} {g.model} <span className="muted">· {formatBytes(g.vramBytes)}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>{d.os ?? "—"}</td>
              <td>
                {d.models.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul>
                    {d.models.map((m) => (
                      <li key={`${m.sha256}-${m.fileName}`} title={`${m.fileName}\nsha256 ${m.sha256}`}>
                        <Link href={`/devices?modelSha256=${m.sha256}`} aria-label={`Devices with model ${shortSha(m.sha256)}`}>
                          <code>{shortSha(m.sha256)}</code>
                        </Link>{" "}
                        {m.architecture ?? "unknown arch"}
                        {m.quantization ? ` · ${m.quantization}` : ""}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <time dateTime={d.lastSeenAt ?? undefined} title={formatDateTime(d.lastSeenAt)}>
                  {formatRelativeTime(d.lastSeenAt, now)}
                </time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
