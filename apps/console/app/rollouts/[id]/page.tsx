import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { getRollout, getRolloutDevices } from "../../../lib/api/rollouts";
import { describeError } from "../../../lib/describeError";
import { formatDateTime } from "../../../lib/format/index";
import { ApiErrorPanel } from "../../../ui/common/ApiErrorPanel";
import { gateLine } from "../../../ui/rollouts/gateDisplay";

export const metadata: Metadata = { title: "Rollout" };

export default async function RolloutPage({ params }: { params: Promise<{ id: string }> }) {
  await connection();
  const { id } = await params;
  let rollout, devices;
  try {
    [rollout, devices] = await Promise.all([getRollout(id), getRolloutDevices(id, { page: 1, pageSize: 200 })]);
  } catch (e) {
    return (
      <>
        <h1>Rollout</h1>
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  return (
    <>
      <p>
        <Link href="/rollouts">← Rollouts</Link>
      </p>
      <h1>Rollout {rollout.id.slice(0, 8)}</h1>
      <p className="subtitle">
        {rollout.targetPath} · {rollout.group ?? "all compatible devices"} · state <strong>{rollout.state}</strong> · created by{" "}
        {rollout.createdBy} {formatDateTime(rollout.createdAt)}
        {rollout.reason ? ` · reason: ${rollout.reason}` : ""}
      </p>
      <h2>Rings</h2>
      <table>
        <thead>
          <tr>
            <th>Ring</th>
            <th>Devices</th>
            <th>States</th>
            <th>Gates (value vs threshold)</th>
            <th>Passed</th>
          </tr>
        </thead>
        <tbody>
          {rollout.rings.map((ring) => (
            <tr key={ring.index}>
              <td>{ring.index + 1}</td>
              <td>{ring.devices}</td>
              <td>
                {Object.entries(ring.counts)
                  .filter(([, n]) => n > 0)
                  .map(([s, n]) => `${s} ${n}`)
                  .join(", ") || "—"}
              </td>
              <td>
                {ring.gates.length === 0
                  ? "—"
                  : ring.gates.map((g) => (
                      <div key={g.gate} title={g.detail}>
                        {g.pass ? "✓" : "✗"} {g.gate}: {gateLine(g)}
                      </div>
                    ))}
              </td>
              <td>{ring.passedAt ? formatDateTime(ring.passedAt) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Devices</h2>
      {devices.items.length === 0 ? (
        <p className="empty">No devices targeted yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Device</th>
              <th>Ring</th>
              <th>State</th>
              <th>Reason</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {devices.items.map((d) => (
              <tr key={d.deviceId}>
                <td>
                  <Link href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.hostname}</Link>
                </td>
                <td>{d.ring === null ? "—" : d.ring + 1}</td>
                <td>{d.state}</td>
                <td>{d.reason ?? (d.code ? d.code : "")}</td>
                <td>{formatDateTime(d.stateAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
