import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { ZDeviceId, type TDeviceDetailV1 } from "@fleet/protocol";
import { getBenchmarks, getDevice, getRuntimeMetrics, listAudit } from "../../../lib/api";
import { NotFoundError } from "../../../lib/api-errors";
import { can } from "../../../lib/roles";
import { describeError } from "../../../lib/describeError";
import { formatBytes, formatDateTime, formatRelativeTime } from "../../../lib/format/index";
import { ApiErrorPanel } from "../../../ui/common/ApiErrorPanel";
import { StatusBadge } from "../../../ui/common/StatusBadge";
import { BenchmarksTable } from "../../../ui/device/BenchmarksTable";
import { SustainedBenchmarkChart } from "../../../ui/device/SustainedBenchmarkChart";
import { InventoryHistory } from "../../../ui/device/InventoryHistory";
import { InventoryPanel } from "../../../ui/device/InventoryPanel";
import { ModelsPanel } from "../../../ui/device/ModelsPanel";
import { PosturePanel } from "../../../ui/device/PosturePanel";
import { RuntimePanel } from "../../../ui/device/RuntimePanel";
import { RuntimeTrendChart } from "../../../ui/device/RuntimeTrendChart";
import { EventTimeline, timelineItems } from "../../../ui/device/EventTimeline";
import { LiveUpdates } from "../../../ui/live/LiveUpdates";
import { requestBenchmarkAction } from "./actions";
import { RunBenchmarkForm } from "./page-client";

type Params = Promise<{ id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Device ${decodeURIComponent(id)}` };
}

function Summary({ detail, now }: { detail: TDeviceDetailV1; now: Date }) {
  const d = detail.device;
  const hb = detail.heartbeat;
  return (
    <section className="panel" aria-label="Summary">
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={d.status} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          {formatRelativeTime(d.lastSeenAt, now)} <span className="muted">({formatDateTime(d.lastSeenAt)})</span>
        </dd>
        <dt>Enrolled</dt>
        <dd>{formatDateTime(d.enrolledAt)}</dd>
        <dt>Agent</dt>
        <dd>{d.agentVersion ?? "—"}</dd>
        <dt>Runtime</dt>
        <dd>
          {hb ? (
            <>
              {hb.runtimeState}
              {hb.activeModel ? ` · ${hb.activeModel}` : ""} <span className="muted">· queue {hb.queueDepth} · heartbeat {formatRelativeTime(hb.receivedAt, now)}</span>
            </>
          ) : (
            "no heartbeat yet"
          )}
        </dd>
        <dt>Hardware</dt>
        <dd>
          {d.cpu ?? "—"} · {formatBytes(d.ramTotalBytes)} RAM
          {d.gpus.map((g, i) => (
            <span key={i}>
              {" "}
              · {g.vendor} {g.model} ({formatBytes(g.vramBytes)})
            </span>
          ))}
        </dd>
      </dl>
    </section>
  );
}

export default async function DevicePage({ params }: { params: Params }) {
  await connection();
  const { id: rawId } = await params;
  const id = ZDeviceId.safeParse(decodeURIComponent(rawId));
  if (!id.success) notFound();

  // Independent calls: one failing section must not blank the others.
  const [detailR, metricsR, benchR, auditR] = await Promise.allSettled([
    getDevice(id.data),
    getRuntimeMetrics(id.data),
    getBenchmarks(id.data),
    listAudit({ targetId: id.data, pageSize: 30 }),
  ]);
  if (detailR.status === "rejected") {
    if (detailR.reason instanceof NotFoundError) notFound();
    return (
      <>
        <p className="breadcrumb">
          <Link href="/devices">← Devices</Link>
        </p>
        <h1>{id.data}</h1>
        <LiveUpdates deviceId={id.data} />
        <ApiErrorPanel error={describeError(detailR.reason)} />
      </>
    );
  }
  const detail = detailR.value;
  const now = new Date();
  const modelChoices = detail.models.map((m) => ({ id: m.fileName, label: `${m.fileName} (${m.sha256.slice(0, 8)})` }));

  return (
    <>
      <p className="breadcrumb">
        <Link href="/devices">← Devices</Link>
      </p>
      <h1>{detail.device.hostname}</h1>
      <p className="subtitle mono">{detail.device.id}</p>
      <LiveUpdates deviceId={detail.device.id} />
      <Summary detail={detail} now={now} />
      <InventoryPanel snapshot={detail.inventory} />
      <ModelsPanel models={detail.models} />
      <div className="grid">
        <PosturePanel posture={detail.posture} />
        <InventoryHistory history={detail.inventoryHistory} />
      </div>
      <div style={{ height: 20 }} />
      {metricsR.status === "fulfilled" ? <RuntimePanel metrics={metricsR.value} /> : <ApiErrorPanel error={describeError(metricsR.reason)} />}
      <div className="grid">
        <section className="panel" aria-labelledby="trend-title">
          <h2 id="trend-title">TTFT, TPOT and tokens/s over time</h2>
          {metricsR.status === "fulfilled" ? <RuntimeTrendChart items={metricsR.value.items} /> : <p className="muted">Runtime metrics unavailable.</p>}
        </section>
        <section className="panel" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Event timeline</h2>
          <EventTimeline
            items={timelineItems(
              auditR.status === "fulfilled" ? auditR.value.items : [],
              metricsR.status === "fulfilled" ? metricsR.value.loads : [],
              benchR.status === "fulfilled" ? benchR.value.items : [],
            )}
          />
          {auditR.status === "rejected" ? <p className="muted">Audited actions unavailable: {describeError(auditR.reason).title}</p> : null}
        </section>
      </div>
      <div style={{ height: 20 }} />
      <section className="panel" aria-labelledby="bench-title">
        <h2 id="bench-title">Benchmarks</h2>
        {(await can("operator")) ? (
          <RunBenchmarkForm
            action={requestBenchmarkAction.bind(null, detail.device.id)}
            models={modelChoices}
            hostname={detail.device.hostname}
            results={benchR.status === "fulfilled" ? benchR.value.items : []}
          />
        ) : (
          <p className="muted">Your role (viewer) can read results; operators and admins run benchmarks.</p>
        )}
        <h3>Results</h3>
        {benchR.status === "fulfilled" ? <BenchmarksTable items={benchR.value.items} /> : <ApiErrorPanel error={describeError(benchR.reason)} />}
        {benchR.status === "fulfilled" ? <SustainedBenchmarkChart items={benchR.value.items} /> : null}
      </section>
    </>
  );
}
