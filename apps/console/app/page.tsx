import Link from "next/link";
import { connection } from "next/server";
import { ZFleetOverviewV1, type TFleetOverviewV1 } from "@fleet/protocol";
import { call } from "../lib/api";
import { describeError } from "../lib/describeError";
import { formatCount, formatRelativeTime } from "../lib/format/index";
import { ApiErrorPanel } from "../ui/common/ApiErrorPanel";
import { LiveUpdates } from "../ui/live/LiveUpdates";
import { ClassBars, StatusDonut } from "../ui/overview/OverviewCharts";

function Card({ value, label, href }: { value: number; label: string; href?: string }) {
  const body = (
    <>
      <div className="value">{formatCount(value)}</div>
      <div className="label">{label}</div>
    </>
  );
  return <div className="card">{href ? <Link href={href}>{body}</Link> : body}</div>;
}

export default async function OverviewPage() {
  await connection();
  let o: TFleetOverviewV1;
  try {
    o = await call("/api/v1/overview", ZFleetOverviewV1);
  } catch (e) {
    return (
      <>
        <h1>Overview</h1>
        <ApiErrorPanel error={describeError(e)} />
      </>
    );
  }
  const now = new Date();
  const d = o.devices;
  return (
    <>
      <h1>Overview</h1>
      <p className="subtitle">The fleet at a glance: who is online, what hardware, which models, rollouts in flight and what needs attention.</p>
      <LiveUpdates deviceId={null} />
      <div className="cards" aria-label="Devices">
        <Card value={d.total} label="Devices" href="/devices" />
        <Card value={d.online} label="Online" href="/devices?status=online" />
        <Card value={d.offline} label="Offline" href="/devices?status=offline" />
        <Card value={d.neverSeen} label="Never seen" href="/devices?status=never_seen" />
        <Card value={o.rollouts.length} label="Active rollouts" href="/rollouts" />
        <Card value={o.violations.open} label="Open compliance violations" href="/compliance" />
      </div>
      <div className="grid">
        <section className="panel" aria-labelledby="ov-status">
          <h2 id="ov-status">Devices by status</h2>
          <StatusDonut
            counts={[
              { name: "Online", value: d.online },
              { name: "Offline", value: d.offline },
              { name: "Never seen", value: d.neverSeen },
              { name: "Revoked", value: d.revoked },
            ]}
          />
        </section>
        <section className="panel" aria-labelledby="ov-ram">
          <h2 id="ov-ram">Hardware: RAM</h2>
          <ClassBars label="Devices by RAM" data={o.ramClasses.map((c) => ({ name: c.label, devices: c.devices }))} />
        </section>
        <section className="panel" aria-labelledby="ov-gpu">
          <h2 id="ov-gpu">Hardware: GPU and VRAM</h2>
          <ClassBars label="Devices by GPU" data={o.gpuClasses.map((c) => ({ name: c.vendor === "none" ? "no GPU" : `${c.vendor} ${c.vram}`, devices: c.devices }))} />
        </section>
      </div>
      <div style={{ height: 20 }} />
      <div className="grid">
        <section className="panel" aria-labelledby="ov-models">
          <h2 id="ov-models">Models in use</h2>
          {o.models.length === 0 ? (
            <p className="muted">No device has reported a model yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Version</th>
                  <th scope="col" className="num">
                    Devices
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.models.map((m) => (
                  <tr key={m.sha256}>
                    <td>
                      <Link href={`/devices?modelSha256=${m.sha256}`}>{m.name}</Link> <span className="muted mono">{m.sha256.slice(0, 8)}</span>
                      {m.quantization ? <span className="muted"> · {m.quantization}</span> : null}
                    </td>
                    <td>{m.version ?? <span className="muted">not in catalog</span>}</td>
                    <td className="num">{formatCount(m.devices)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="panel" aria-labelledby="ov-rollouts">
          <h2 id="ov-rollouts">Active rollouts</h2>
          {o.rollouts.length === 0 ? (
            <p className="muted">No rollout is running or paused.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">State</th>
                  <th scope="col">Ring</th>
                  <th scope="col" className="num">
                    Active / in progress / failed
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.rollouts.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/rollouts/${encodeURIComponent(r.id)}`}>
                        {r.entryName} {r.entryVersion}
                      </Link>
                    </td>
                    <td>{r.state}</td>
                    <td>
                      {r.currentRing + 1}
                      {r.rings ? ` of ${r.rings}` : ""}
                    </td>
                    <td className="num">
                      {r.active} / {r.inProgress} / {r.failed} <span className="muted">of {r.total}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <div style={{ height: 20 }} />
      <div className="grid">
        <section className="panel" aria-labelledby="ov-failing">
          <h2 id="ov-failing">Failing devices</h2>
          {o.failing.length === 0 ? (
            <p className="muted">No device has failed an active rollout.</p>
          ) : (
            <ul className="plain-list">
              {o.failing.map((f) => (
                <li key={`${f.rolloutId}:${f.deviceId}`}>
                  <Link href={`/devices/${encodeURIComponent(f.deviceId)}`}>{f.hostname}</Link> <code>{f.code ?? "failed"}</code> {f.reason ?? ""}{" "}
                  <span className="muted">{formatRelativeTime(f.at, now)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel" aria-labelledby="ov-violations">
          <h2 id="ov-violations">Compliance violations</h2>
          {o.violations.open === 0 ? (
            <p className="muted">No open violation.</p>
          ) : (
            <>
              <p>
                {formatCount(o.violations.open)} open on {formatCount(o.violations.devices)} {o.violations.devices === 1 ? "device" : "devices"}
              </p>
              <ClassBars label="Open violations by policy" data={o.violations.byPolicy.map((p) => ({ name: p.policy, devices: p.open }))} />
            </>
          )}
        </section>
      </div>
    </>
  );
}
