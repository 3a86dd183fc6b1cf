import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { z } from "zod";
import type { TCatalogEntryV1, TCatalogState } from "@fleet/protocol";
import { getCatalogEntry, getCatalogVariants, type CatalogTransition } from "../../../lib/api/catalog";
import { NotFoundError } from "../../../lib/api-errors";
import { describeError } from "../../../lib/describeError";
import { formatBytes, formatCount, formatDateTime } from "../../../lib/format/index";
import { can } from "../../../lib/roles";
import { ApiErrorPanel } from "../../../ui/common/ApiErrorPanel";
import { CatalogStateBadge } from "../../../ui/catalog/CatalogStateBadge";
import { QualityCell } from "../../../ui/catalog/QualityCell";
import { TransitionButton } from "../../../ui/catalog/TransitionButton";
import { VariantsTable } from "../../../ui/catalog/VariantsTable";
import { transitionEntryAction } from "../actions";

type Params = Promise<{ id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Catalog entry ${decodeURIComponent(id).slice(0, 8)}` };
}

/** Which transitions the server allows from a state (the server enforces it; this only hides useless buttons). */
const ALLOWED: Record<TCatalogState, CatalogTransition[]> = {
  draft: ["approve", "revoke"],
  approved: ["deprecate", "revoke"],
  deprecated: ["revoke"],
  revoked: [],
};
const BUTTON: Record<CatalogTransition, { label: string; verb: string; danger: boolean }> = {
  approve: { label: "Approve…", verb: "approval", danger: false },
  deprecate: { label: "Deprecate…", verb: "deprecation", danger: true },
  revoke: { label: "Revoke…", verb: "revocation", danger: true },
};

function Facts({ entry }: { entry: TCatalogEntryV1 }) {
  const f = entry.facts;
  return (
    <section className="panel" aria-label="Facts">
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <CatalogStateBadge state={entry.state} /> <span className="muted">by {entry.stateChangedBy} at {formatDateTime(entry.stateChangedAt)}</span>
          {entry.stateReason ? <> · reason: “{entry.stateReason}”</> : null}
        </dd>
        <dt>Target</dt>
        <dd className="mono">{entry.targetPath}</dd>
        <dt>Quantization</dt>
        <dd>
          {f.quantization.type} · {f.quantization.bits}-bit{f.quantization.groupSize ? ` · group ${f.quantization.groupSize}` : ""}
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(f.fileSizeBytes)}</dd>
        <dt>SHA-256</dt>
        <dd className="sha-full">{f.sha256}</dd>
        <dt>License</dt>
        <dd>{f.license || "—"}</dd>
        <dt>Source</dt>
        <dd>
          {f.source.repository} <span className="mono">@{f.source.revision}</span>
        </dd>
        <dt>Conversion</dt>
        <dd>{f.conversion.method}</dd>
        <dt>Architecture</dt>
        <dd>
          {f.architecture} · tokenizer {f.tokenizer} · {formatCount(f.parameterCount)} parameters · context {formatCount(f.contextLength)}
        </dd>
        <dt>Shape</dt>
        <dd>
          {f.shape.layers} layers · {f.shape.headCount} heads ({f.shape.kvHeads} KV) · head dim {f.shape.headDim} · embedding {f.shape.embeddingLength} · vocab {formatCount(f.shape.vocabSize)}
        </dd>
        <dt>Memory</dt>
        <dd>
          {formatBytes(f.memory.ramBytes)} RAM at context {formatCount(f.memory.contextSize)} <span className="muted">(KV cache {formatBytes(f.memory.kvCacheBytes)}, compute {formatBytes(f.memory.computeBytes)})</span>
        </dd>
        <dt>Runtime</dt>
        <dd>
          node-llama-cpp ≥ {f.runtime.minNodeLlamaCpp ?? "any"} · llama.cpp ≥ {f.runtime.minLlamaCppRelease ?? "any"}
        </dd>
        <dt>Quality</dt>
        <dd>
          <QualityCell quality={entry.quality} />
          {entry.quality ? (
            <div className="muted">
              reference ppl {entry.quality.referencePerplexity.toFixed(2)} ({entry.quality.referenceEntryId === entry.id ? "this entry is the reference" : <Link href={`/catalog/${entry.quality.referenceEntryId}`}>reference entry</Link>}) · text {entry.quality.textId} · {formatCount(entry.quality.scoredTokens)} tokens at context {entry.quality.contextSize} ·
              harness {entry.quality.harnessVersion} · measured {formatDateTime(entry.quality.measuredAt)} by {entry.quality.measuredBy}
              {entry.quality.marginReason ? ` · ${entry.quality.marginReason}` : ""}
            </div>
          ) : null}
        </dd>
        <dt>Imported</dt>
        <dd>
          {formatDateTime(entry.createdAt)} by {entry.createdBy}
        </dd>
      </dl>
    </section>
  );
}

export default async function CatalogEntryPage({ params }: { params: Params }) {
  await connection();
  const { id: rawId } = await params;
  const id = z.uuid().safeParse(decodeURIComponent(rawId));
  if (!id.success) notFound();

  const [entryR, variantsR] = await Promise.allSettled([getCatalogEntry(id.data), getCatalogVariants(id.data)]);
  const back = (
    <p className="breadcrumb">
      <Link href="/catalog">← Catalog</Link>
    </p>
  );
  if (entryR.status === "rejected") {
    if (entryR.reason instanceof NotFoundError) notFound();
    return (
      <>
        {back}
        <h1>Catalog entry</h1>
        <ApiErrorPanel error={describeError(entryR.reason)} />
      </>
    );
  }
  const entry = entryR.value;
  const admin = await can("admin");
  const actions = ALLOWED[entry.state];

  return (
    <>
      {back}
      <h1>
        {entry.facts.name} {entry.facts.version}
      </h1>
      <p className="subtitle mono">{entry.id}</p>
      <Facts entry={entry} />
      {admin && actions.length > 0 ? (
        <section className="panel" aria-labelledby="actions-title">
          <h2 id="actions-title">Actions</h2>
          <div className="form-row" style={{ alignItems: "flex-start" }}>
            {actions.map((a) => (
              <TransitionButton key={`${a}-${entry.state}`} action={transitionEntryAction.bind(null, entry.id, a)} {...BUTTON[a]} />
            ))}
          </div>
        </section>
      ) : null}
      {!admin ? <p className="muted">Your role can read the catalog; admins import, approve, deprecate and revoke entries.</p> : null}
      <section className="panel" aria-labelledby="variants-title">
        <h2 id="variants-title">Quantizations of the same source model</h2>
        {variantsR.status === "fulfilled" ? (
          variantsR.value.items.length > 0 ? (
            <VariantsTable variants={variantsR.value} currentId={entry.id} />
          ) : (
            <p className="muted">No other variants.</p>
          )
        ) : (
          <ApiErrorPanel error={describeError(variantsR.reason)} />
        )}
      </section>
      <p>
        <Link href={`/compatibility?entryId=${entry.id}`}>Where it runs in the fleet →</Link>
      </p>
    </>
  );
}
