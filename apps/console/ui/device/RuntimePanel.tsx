import type { TRuntimeMetricsViewV1 } from "@fleet/protocol";
import { formatBytes, formatDateTime, formatMs, shortSha } from "../../lib/format/index";

type Load = TRuntimeMetricsViewV1["loads"][number];

function placement(load: Load): string {
  if (load.plan) return load.plan.placement;
  // Older loads may lack a plan; the offloaded layer count still tells CPU from GPU.
  return load.gpuLayers > 0 ? "gpu" : "cpu";
}

/** Request latencies per model and reporting window, and every model load with how it was placed. */
export function RuntimePanel({ metrics }: { metrics: TRuntimeMetricsViewV1 }) {
  return (
    <section className="panel" aria-labelledby="runtime-title">
      <h2 id="runtime-title">Runtime metrics</h2>
      <h3>Requests</h3>
      {metrics.items.length === 0 ? (
        <p className="muted">No inference requests reported yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Window</th>
                <th scope="col">Model</th>
                <th scope="col" className="num">Requests</th>
                <th scope="col" className="num">Errors</th>
                <th scope="col" className="num">Prompt / output tokens</th>
                <th scope="col" className="num">TTFT p50</th>
                <th scope="col" className="num">TTFT p95</th>
                <th scope="col" className="num">TPOT p50</th>
                <th scope="col" className="num">TPOT p95</th>
              </tr>
            </thead>
            <tbody>
              {metrics.items.map((w, i) => (
                <tr key={`${w.windowStart}-${w.stats.modelId}-${i}`}>
                  <td>
                    {formatDateTime(w.windowStart)}
                    <div className="muted">to {formatDateTime(w.windowEnd)}</div>
                  </td>
                  <td>
                    {w.stats.modelId}
                    {w.stats.sha256 ? (
                      <div className="muted">
                        <code>{shortSha(w.stats.sha256)}</code>
                      </div>
                    ) : null}
                  </td>
                  <td className="num">{w.stats.requests}</td>
                  <td className="num">{w.stats.errors}</td>
                  <td className="num">
                    {w.stats.promptTokens} / {w.stats.outputTokens}
                  </td>
                  <td className="num">{formatMs(w.stats.ttftMs?.p50)}</td>
                  <td className="num">{formatMs(w.stats.ttftMs?.p95)}</td>
                  <td className="num">{formatMs(w.stats.tpotMs?.p50)}</td>
                  <td className="num">{formatMs(w.stats.tpotMs?.p95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Model loads</h3>
      {metrics.loads.length === 0 ? (
        <p className="muted">No model loads reported yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Model</th>
                <th scope="col">Result</th>
                <th scope="col">Placement</th>
                <th scope="col">Backend</th>
                <th scope="col" className="num">GPU layers</th>
                <th scope="col" className="num">Context</th>
                <th scope="col">Quant.</th>
                <th scope="col" className="num">Load time</th>
                <th scope="col" className="num">Peak RSS</th>
                <th scope="col" className="num">Peak VRAM</th>
              </tr>
            </thead>
            <tbody>
              {metrics.loads.map((l, i) => (
                <tr key={`${l.at}-${l.modelId}-${i}`}>
                  <td>{formatDateTime(l.at)}</td>
                  <td>{l.modelId}</td>
                  <td>
                    {l.ok ? (
                      <span className="badge badge-no">Loaded</span>
                    ) : (
                      <>
                        <span className="badge badge-fail">Failed</span>
                        {l.error ? <div className="muted">{l.error}</div> : null}
                      </>
                    )}
                    {l.plan?.reason ? <div className="muted">{l.plan.reason}</div> : null}
                  </td>
                  <td>{placement(l)}</td>
                  <td>{l.backend}</td>
                  <td className="num">
                    {l.gpuLayers}
                    {l.plan ? ` / ${l.plan.totalLayers}` : ""}
                  </td>
                  <td className="num">{l.contextSize}</td>
                  <td>{l.quantization ?? "—"}</td>
                  <td className="num">{formatMs(l.loadMs)}</td>
                  <td className="num">{formatBytes(l.peakRssBytes)}</td>
                  <td className="num">{formatBytes(l.peakVramBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
