import { ROLLOUT_DEVICE_STATES, type TRolloutV1 } from "@fleet/protocol";
import { formatDateTime } from "../../lib/format/index";
import { progressText } from "./progress";

type Ring = TRolloutV1["rings"][number];
type Gate = Ring["gates"][number];

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** Rates are shares 0..1 and counts are integers; show each the way its threshold was typed. */
function gateValue(gate: string, v: number | null): string {
  if (v === null) return "—";
  if (/Rate$/.test(gate)) return pct(v);
  if (/Ratio$/.test(gate)) return `${Math.round(v * 100) / 100}×`;
  return String(v);
}

/** A soak under a minute in seconds (a 9 s soak is not "0 min"), else in whole minutes. */
function soakText(sec: number): string {
  return sec > 0 && sec < 60 ? `${sec} s` : `${Math.round(sec / 60)} min`;
}

function ringStatus(r: Ring, current: boolean, open: boolean): string {
  if (r.passedAt) return `passed ${formatDateTime(r.passedAt)}`;
  // a stopped rollout (aborted, rolled back) runs no ring any more
  if (r.startedAt) return `${current && open ? "running" : "started"} since ${formatDateTime(r.startedAt)}${r.soakEndsAt ? ` · soak ends ${formatDateTime(r.soakEndsAt)}` : ""}`;
  return "not started";
}

export function GateTable({ gates }: { gates: Gate[] }) {
  if (gates.length === 0) return <p className="muted">No gate values yet.</p>;
  return (
    <table className="gates">
      <thead>
        <tr>
          <th scope="col">Gate</th>
          <th scope="col">Value</th>
          <th scope="col">Threshold</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {gates.map((g) => (
          <tr key={g.gate} className={g.pass ? "gate-pass" : "gate-fail"}>
            <td>{g.gate}</td>
            <td>{gateValue(g.gate, g.value)}</td>
            <td>{gateValue(g.gate, g.threshold)}</td>
            <td>
              <span className={`badge ${g.pass ? "badge-yes" : "badge-fail"}`}>{g.pass ? "pass" : "fail"}</span> <span className="muted">{g.detail}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Progress per ring: device counts per state, timing, and its gates against their thresholds. */
export function RingProgress({ rollout }: { rollout: TRolloutV1 }) {
  const shown = ROLLOUT_DEVICE_STATES.filter((s) => rollout.rings.some((r) => (r.counts[s] ?? 0) > 0));
  return (
    <section className="panel" aria-label="Rings">
      <h2>Rings</h2>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Ring</th>
              <th scope="col">Reach</th>
              <th scope="col">Devices</th>
              {shown.map((s) => (
                <th scope="col" key={s}>
                  {s.replace("_", " ")}
                </th>
              ))}
              <th scope="col">Progress</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rollout.rings.map((r) => (
              <tr key={r.index} aria-current={r.index === rollout.currentRing ? "step" : undefined} data-ring={r.spec.name}>
                <th scope="row">
                  {r.index + 1}. {r.spec.name}
                </th>
                <td>
                  {r.spec.percent}% · soak {soakText(r.spec.soakSec)}
                </td>
                <td>{r.devices}</td>
                {shown.map((s) => (
                  <td key={s} data-state={s}>
                    {r.counts[s] ?? 0}
                  </td>
                ))}
                <td className="ring-progress">{progressText(r.counts)}</td>
                <td>{ringStatus(r, r.index === rollout.currentRing, rollout.state === "running" || rollout.state === "paused")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rollout.rings.map((r) => (
        <details key={r.index} open={r.index === rollout.currentRing}>
          <summary>
            Gates of ring {r.index + 1} ({r.spec.name}){r.gates.some((g) => !g.pass) ? " · failing" : ""}
          </summary>
          <GateTable gates={r.gates} />
        </details>
      ))}
    </section>
  );
}
