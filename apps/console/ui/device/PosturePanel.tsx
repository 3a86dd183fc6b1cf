import type { TDeviceDetailV1 } from "@fleet/protocol";
import { formatDateTime } from "../../lib/format/index";

function YesNo({ value, risky }: { value: boolean; risky: boolean }) {
  // Colour marks the answer that needs attention; the text carries the meaning.
  return <span className={`badge ${value === risky ? "badge-yes" : "badge-no"}`}>{value ? "Yes" : "No"}</span>;
}

/** Where data can leave the device, and how its local inference API is exposed. */
export function PosturePanel({ posture }: { posture: TDeviceDetailV1["posture"] }) {
  if (!posture) {
    return (
      <section className="panel" aria-labelledby="posture-title">
        <h2 id="posture-title">Privacy posture</h2>
        <p className="muted">No posture report received yet.</p>
      </section>
    );
  }
  const p = posture.posture;
  const api = p.localApi;
  return (
    <section className="panel" aria-labelledby="posture-title">
      <h2 id="posture-title">Privacy posture</h2>
      <p className="muted">Reported {formatDateTime(posture.receivedAt)}</p>
      <dl className="facts">
        <dt>Prompts leave device</dt>
        <dd>
          <YesNo value={p.promptsLeaveDevice} risky={true} />
        </dd>
        <dt>Telemetry</dt>
        <dd>{p.telemetry}</dd>
        <dt>Remote fallback</dt>
        <dd>
          <YesNo value={p.remoteFallback.enabled} risky={true} /> {p.remoteFallback.url ? <code>{p.remoteFallback.url}</code> : null}
        </dd>
        <dt>Local API</dt>
        <dd>
          {api.enabled ? (
            <>
              <code>
                {api.bindAddress}:{api.port}
              </code>{" "}
              {api.loopbackOnly ? "(loopback only)" : "(reachable from the network)"}
            </>
          ) : (
            "disabled"
          )}
        </dd>
        <dt>API auth required</dt>
        <dd>
          <YesNo value={api.authRequired} risky={false} />
        </dd>
        <dt>CORS origins</dt>
        <dd>{api.corsAllowedOrigins.length === 0 ? "none allowed" : api.corsAllowedOrigins.join(", ")}</dd>
      </dl>
      <h3>Outbound endpoints</h3>
      {p.outbound.length === 0 ? (
        <p className="muted">None disclosed.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">URL</th>
                <th scope="col">Carries</th>
              </tr>
            </thead>
            <tbody>
              {p.outbound.map((o, i) => (
                <tr key={i}>
                  <td>{o.purpose}</td>
                  <td>
                    <code>{o.url}</code>
                  </td>
                  <td>{o.carries.join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
