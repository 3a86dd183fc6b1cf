import type { TBenchmarkListV1 } from "@fleet/protocol";
import { formatBytes, formatCount, formatDateTime, formatMeanSd, shortSha } from "../../lib/format/index";

type Result = TBenchmarkListV1["items"][number]["result"];

/** Everything a result depends on, so two numbers are only compared when their settings match. */
function Disclosure({ r }: { r: Result }) {
  const s = r.settings;
  const h = r.hardware;
  return (
    <details>
      <summary>Settings and hardware</summary>
      <dl className="facts">
        <dt>Model</dt>
        <dd>
          {r.model.id} · {r.model.architecture ?? "—"} {r.model.type ?? ""} · {r.model.quantization ?? "—"} · {formatCount(r.model.parameterCount)} params ·{" "}
          {formatBytes(r.model.sizeBytes)}
          {r.model.sha256 ? (
            <>
              {" "}
              · <code>{shortSha(r.model.sha256)}</code>
            </>
          ) : null}
        </dd>
        <dt>Tokens</dt>
        <dd>
          pp {s.nPrompt}, tg {s.nGen}, {s.repetitions} repetitions
        </dd>
        <dt>Batch / threads</dt>
        <dd>
          {s.batchSize} / {s.threads}
        </dd>
        <dt>KV type</dt>
        <dd>{s.kvType}</dd>
        <dt>GPU layers</dt>
        <dd>{s.gpuLayers}</dd>
        <dt>mmap</dt>
        <dd>{s.mmap ? "on" : "off"}</dd>
        <dt>Context</dt>
        <dd>{s.contextSize}</dd>
        <dt>CPU</dt>
        <dd>
          {h.cpu} ({h.cpuCores} cores)
        </dd>
        <dt>GPUs</dt>
        <dd>{h.gpus.length ? h.gpus.join(", ") : "none"}</dd>
        <dt>Backends</dt>
        <dd>{h.backends.join(", ") || "—"}</dd>
        <dt>RAM / VRAM</dt>
        <dd>
          {formatBytes(h.ramTotalBytes)} / {formatBytes(h.vramTotalBytes)}
        </dd>
        <dt>Power mode</dt>
        <dd>{h.powerMode}</dd>
        <dt>Build</dt>
        <dd>
          node-llama-cpp {r.build.nodeLlamaCpp}, llama.cpp {r.build.llamaCpp}
        </dd>
        <dt>Peak memory</dt>
        <dd>
          RSS {formatBytes(r.memory.peakRssBytes)}, VRAM {formatBytes(r.memory.peakVramBytes)}
        </dd>
      </dl>
    </details>
  );
}

/** Benchmark results, llama-bench style: prompt processing and generation in tokens/s, mean ± sd. */
export function BenchmarksTable({ items }: { items: TBenchmarkListV1["items"] }) {
  if (items.length === 0) return <p className="muted">No benchmark has run on this device yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Model</th>
            <th scope="col">Test</th>
            <th scope="col" className="num">pp tok/s</th>
            <th scope="col" className="num">tg tok/s</th>
            <th scope="col">Settings</th>
          </tr>
        </thead>
        <tbody>
          {items.map(({ id, result: r }) => (
            <tr key={id}>
              <td>{formatDateTime(r.at)}</td>
              <td>
                {r.model.id}
                <div className="muted">
                  {r.model.architecture ?? "—"} · {r.model.quantization ?? "—"}
                </div>
              </td>
              <td>
                pp{r.settings.nPrompt} / tg{r.settings.nGen}
                {!r.ok ? (
                  <div>
                    <span className="badge badge-fail">Failed</span> <span className="muted">{r.error}</span>
                  </div>
                ) : null}
              </td>
              <td className="num">{formatMeanSd(r.promptProcessing)}</td>
              <td className="num">{formatMeanSd(r.generation)}</td>
              <td>
                <Disclosure r={r} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
