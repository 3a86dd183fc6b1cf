import type { TDeviceDetailV1 } from "@fleet/protocol";
import { formatBytes, formatCount, formatDateTime } from "../../lib/format/index";

type Model = TDeviceDetailV1["models"][number];

/** dt/dd rows for the model's facts list, so file facts and GGUF facts line up in one grid. */
function GgufFacts({ model }: { model: Model }) {
  const g = model.gguf;
  if (!g) {
    return (
      <>
        <dt>GGUF</dt>
        <dd>header not readable{model.error ? `: ${model.error}` : ""}</dd>
      </>
    );
  }
  return (
    <>
      <dt>Architecture</dt>
      <dd>{g.architecture ?? "—"}</dd>
      <dt>Quantization</dt>
      <dd>
        {g.quantization ?? "—"}
        {g.fileType ? <span className="muted"> ({g.fileType})</span> : null}
      </dd>
      <dt>Parameters</dt>
      <dd>{formatCount(g.parameterCount)}</dd>
      <dt>Context length</dt>
      <dd>{g.contextLength ?? "—"}</dd>
      <dt>Layers</dt>
      <dd>{g.blockCount ?? "—"}</dd>
      <dt>Heads (KV)</dt>
      <dd>
        {g.headCount ?? "—"} ({g.headCountKv ?? "—"})
      </dd>
      <dt>Embedding</dt>
      <dd>{g.embeddingLength ?? "—"}</dd>
      <dt>Tokenizer</dt>
      <dd>
        {g.tokenizer ?? "—"}
        {g.vocabSize !== null ? <span className="muted"> · {g.vocabSize} tokens</span> : null}
      </dd>
      <dt>License</dt>
      <dd>{g.license ?? "not stated"}</dd>
      <dt>GGUF version</dt>
      <dd>{g.ggufVersion ?? "—"}</dd>
    </>
  );
}

/** Installed models with their full hash and what the GGUF header says about them. */
export function ModelsPanel({ models }: { models: TDeviceDetailV1["models"] }) {
  return (
    <section className="panel" aria-labelledby="models-title">
      <h2 id="models-title">Models ({models.length})</h2>
      {models.length === 0 ? (
        <p className="muted">No model reported in the models directory.</p>
      ) : (
        <div className="stack">
          {models.map((m) => (
            <article key={m.path} aria-label={m.fileName}>
              <h3>
                {m.gguf?.name ?? m.fileName} <span className="muted">· {formatBytes(m.sizeBytes)}</span>
              </h3>
              <dl className="facts">
                <dt>File</dt>
                <dd>
                  <code>{m.path}</code>
                </dd>
                <dt>sha256</dt>
                <dd className="sha-full">{m.sha256}</dd>
                <dt>Seen</dt>
                <dd>
                  since {formatDateTime(m.firstSeenAt)}, last {formatDateTime(m.lastSeenAt)}
                </dd>
                <GgufFacts model={m} />
              </dl>
              {m.gguf && m.error ? <p className="muted">Note: {m.error}</p> : null}
            </article>
          ))}
        </div>
      )}
    </section>
  );
}
