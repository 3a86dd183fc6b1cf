import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { z } from "zod";
import { ZRolloutDeviceState, type TRolloutV1 } from "@fleet/protocol";
import { getRollout, getRolloutAdoption, getRolloutDevices } from "../../../lib/api/rollouts";
import { NotFoundError } from "../../../lib/api-errors";
import { describeError } from "../../../lib/describeError";
import { formatDateTime } from "../../../lib/format/index";
import { firstParam, searchString } from "../../../lib/query";
import { can } from "../../../lib/roles";
import { ApiErrorPanel } from "../../../ui/common/ApiErrorPanel";
import { Pagination } from "../../../ui/devices/Pagination";
import { LiveUpdates } from "../../../ui/live/LiveUpdates";
import { AdoptionChart } from "../../../ui/rollouts/AdoptionChart";
import { ConfirmAction } from "../../../ui/rollouts/ConfirmAction";
import { RingProgress } from "../../../ui/rollouts/RingProgress";
import { DeviceStateBadge, RolloutStateBadge } from "../../../ui/rollouts/RolloutStateBadge";
import { currentRingName, progressText } from "../../../ui/rollouts/progress";
import { rolloutAction } from "./actions";

type Params = Promise<{ id: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const DEVICE_PAGE_SIZE = 50;
const ZDeviceQuery = z.object({ page: z.coerce.number().int().positive().catch(1).default(1), state: ZRolloutDeviceState.optional().catch(undefined) });
// Devices that were sent the model can be rolled back one by one (the API answers 409 for skipped/waiting).
const ROLLBACKABLE = new Set(["pending", "downloading", "verifying", "testing", "active", "failed"]);

export const metadata: Metadata = { title: "Rollout" };

function Actions({ rollout, action }: { rollout: TRolloutV1; action: typeof rolloutAction extends (id: string, ...rest: infer R) => infer O ? (...args: R) => O : never }) {
  const open = rollout.state === "running" || rollout.state === "paused";
  return (
    <div className="form-row" aria-label="Rollout actions" role="group">
      {rollout.state === "running" ? <ConfirmAction action={action} kind="pause" label="Pause" question="Pause the rollout? Devices already sent the model keep it; no new ring starts." /> : null}
      {rollout.state === "paused" ? <ConfirmAction action={action} kind="resume" label="Resume" question="Resume the rollout? A ring that failed its gates is run again." /> : null}
      {open ? <ConfirmAction action={action} kind="abort" label="Abort" danger question="Abort the rollout? It stops, and every device that was sent the model is rolled back." /> : null}
      {rollout.state !== "aborted" && rollout.state !== "rolled_back" ? (
        <ConfirmAction action={action} kind="rollback" label="Roll back" danger question="Roll back the whole rollout? Every device that was sent the model returns to its previous model." />
      ) : null}
    </div>
  );
}

export default async function RolloutPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  await connection();
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const sp = await searchParams;
  const dq = ZDeviceQuery.parse({ page: firstParam(sp.page), state: firstParam(sp.state) });

  const [rolloutR, devicesR, adoptionR, mayAct] = await Promise.all([
    getRollout(id).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })),
    getRolloutDevices(id, { page: dq.page, pageSize: DEVICE_PAGE_SIZE, state: dq.state }).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })),
    getRolloutAdoption(id).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })),
    can("operator"),
  ]);
  const back = (
    <p className="breadcrumb">
      <Link href="/rollouts">← Rollouts</Link>
    </p>
  );
  if (!rolloutR.ok) {
    if (rolloutR.e instanceof NotFoundError) notFound();
    return (
      <>
        {back}
        <h1>Rollout</h1>
        <LiveUpdates deviceId={null} />
        <ApiErrorPanel error={describeError(rolloutR.e)} />
      </>
    );
  }
  const r = rolloutR.v;
  // after an abort or a whole rollback every sent device already has its rollback assignment
  const deviceRollbackOpen = r.state !== "aborted" && r.state !== "rolled_back";
  const act = rolloutAction.bind(null, r.id);
  const devicesHref = (q: { page?: number; state?: string }) => `/rollouts/${r.id}${searchString({ state: q.state, page: q.page === 1 ? undefined : q.page })}`;

  return (
    <>
      {back}
      <h1 className="mono">{r.targetPath}</h1>
      <p className="subtitle">
        <RolloutStateBadge state={r.state} /> · {r.group ? `group ${r.group}` : "all compatible devices"} · ring {currentRingName(r)} ·{" "}
        <span data-testid="rollout-progress">{progressText(r.totals)}</span>
      </p>
      <LiveUpdates deviceId={null} />
      <section className="panel" aria-label="Summary">
        <dl className="facts">
          <dt>State</dt>
          <dd data-testid="rollout-state">{r.state.replace("_", " ")}</dd>
          {r.reason ? (
            <>
              <dt>Reason</dt>
              <dd>{r.reason}</dd>
            </>
          ) : null}
          <dt>Started</dt>
          <dd>
            {formatDateTime(r.createdAt)} by {r.createdBy}
          </dd>
          <dt>Updated</dt>
          <dd>{formatDateTime(r.updatedAt)}</dd>
          {r.completedAt ? (
            <>
              <dt>Finished</dt>
              <dd>{formatDateTime(r.completedAt)}</dd>
            </>
          ) : null}
          <dt>Model hash</dt>
          <dd className="mono sha-full">{r.sha256}</dd>
          <dt>Devices</dt>
          <dd data-testid="rollout-totals">
            {(Object.entries(r.totals) as Array<[string, number]>)
              .filter(([, n]) => n > 0)
              .map(([s, n]) => `${n} ${s.replace("_", " ")}`)
              .join(" · ") || "none"}
          </dd>
        </dl>
        {mayAct ? <Actions rollout={r} action={act} /> : null}
      </section>
      <RingProgress rollout={r} />
      <section className="panel" aria-label="Adoption">
        <h2>Adoption over time</h2>
        {adoptionR.ok ? (
          <>
            <AdoptionChart buckets={adoptionR.v.buckets} />
            {adoptionR.v.timeToActiveSec.some((t) => t.n > 0) ? (
              <p className="muted">
                Time to active:{" "}
                {adoptionR.v.timeToActiveSec
                  .filter((t) => t.n > 0)
                  .map((t) => `ring ${t.ring + 1}: p50 ${t.p50 === null ? "—" : `${Math.round(t.p50)} s`}, p95 ${t.p95 === null ? "—" : `${Math.round(t.p95)} s`} (n=${t.n})`)
                  .join(" · ")}
              </p>
            ) : null}
          </>
        ) : (
          <ApiErrorPanel error={describeError(adoptionR.e)} />
        )}
      </section>
      <section className="panel" aria-label="Devices in this rollout">
        <h2>Devices</h2>
        <form className="filters" method="get" action={`/rollouts/${r.id}`} aria-label="Filter devices">
          <label>
            State
            <select name="state" defaultValue={dq.state ?? ""}>
              <option value="">Any</option>
              {ZRolloutDeviceState.options.map((s) => (
                <option key={s} value={s}>
                  {s.replace("_", " ")}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="secondary">
            Filter
          </button>
        </form>
        {!devicesR.ok ? (
          <ApiErrorPanel error={describeError(devicesR.e)} />
        ) : devicesR.v.total === 0 ? (
          <p className="empty muted">{dq.state ? `No devices in state ${dq.state.replace("_", " ")}.` : "No devices in this rollout's scope."}</p>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Ring</th>
                    <th scope="col">State</th>
                    <th scope="col">Failure / reason</th>
                    <th scope="col">Previous model</th>
                    <th scope="col">Since</th>
                    {mayAct ? <th scope="col">Action</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {devicesR.v.items.map((d) => (
                    <tr key={d.deviceId} data-device={d.hostname}>
                      <td>
                        <Link href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.hostname}</Link>
                      </td>
                      <td>{d.ring === null ? "—" : `${d.ring + 1}. ${r.rings[d.ring]?.spec.name ?? ""}`}</td>
                      <td>
                        <DeviceStateBadge state={d.state} />
                        {d.state === "downloading" && d.bytesTotal ? <span className="muted"> {Math.round(((d.bytesDone ?? 0) / d.bytesTotal) * 100)}%</span> : null}
                      </td>
                      <td>
                        {d.code ? <code>{d.code}</code> : null} {d.reason ?? (d.code ? "" : "—")}
                      </td>
                      <td className="mono">{d.previousTarget ?? "—"}</td>
                      <td>{formatDateTime(d.stateAt)}</td>
                      {mayAct ? (
                        <td>
                          {deviceRollbackOpen && ROLLBACKABLE.has(d.state) ? (
                            <ConfirmAction action={act} kind="rollback" label="Roll back device" small danger deviceId={d.deviceId} question={`Roll back ${d.hostname} to its previous model?`} />
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={devicesR.v.page} pageSize={devicesR.v.pageSize} total={devicesR.v.total} hrefFor={(page) => devicesHref({ page, state: dq.state })} />
          </>
        )}
      </section>
    </>
  );
}
