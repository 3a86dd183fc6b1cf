"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useRef, useState, useTransition } from "react";
import { SUSTAINED_DEFAULTS, type TBenchmarkListV1 } from "@fleet/protocol";
import { formatMeanSd } from "../../../lib/format/index";
import type { BenchmarkActionState } from "./actions";

type Action = (prev: BenchmarkActionState, form: FormData) => Promise<BenchmarkActionState>;
type Mode = "standard" | "sustained";

/** What the confirmation says will run, from the form as filled in. */
function describeRequest(form: FormData, hostname: string, models: Array<{ id: string; label: string }>): string {
  const v = (k: string) => String(form.get(k) ?? "");
  const model = models.find((m) => m.id === v("modelId"))?.label ?? "its active model";
  if (v("mode") === "sustained") {
    return `Run a sustained benchmark on ${hostname} with ${model}: generate for ${v("durationSec")} s, sampling tokens/s every ${v("sampleIntervalSec")} s (throttling: the last window more than ${v("throttleDropPct")}% below the first). The device answers its users more slowly meanwhile.`;
  }
  return `Run a standard benchmark on ${hostname} with ${model}: ${v("repetitions")} repetitions of ${v("nPrompt")} prompt tokens and ${v("nGen")} generated tokens.`;
}

/**
 * The "Run benchmark" form (operators and admins): standard or sustained, confirmed before it is sent; then the
 * request's state, which turns to completed or failed when the device's result (same command id) is listed.
 */
export function RunBenchmarkForm({
  action,
  models,
  hostname,
  results,
}: {
  action: Action;
  models: Array<{ id: string; label: string }>;
  hostname: string;
  results: TBenchmarkListV1["items"];
}) {
  const [state, submit, pending] = useActionState(action, { status: "idle" });
  const router = useRouter();
  const [refreshing, startRefresh] = useTransition();
  const [mode, setMode] = useState<Mode>("standard");
  /** the confirmation's text and the values it confirms (sent as they were, whatever is typed meanwhile) */
  const [confirming, setConfirming] = useState<{ text: string; values: Array<[string, string]> } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state.status !== "idle") setConfirming(null);
  }, [state]);

  const askToConfirm = () => {
    const form = formRef.current;
    if (!form || !form.reportValidity()) return;
    const data = new FormData(form);
    setConfirming({ text: describeRequest(data, hostname, models), values: [...data.entries()].map(([k, v]) => [k, String(v)]) });
  };
  const result = state.status === "requested" ? results.find((i) => i.result.commandId === state.commandId)?.result : undefined;
  const requestState = state.status !== "requested" ? null : !result ? "requested" : result.ok ? "completed" : "failed";

  return (
    <form action={submit} aria-label="Run benchmark" ref={formRef}>
      <div className="form-row">
        {/* while the confirmation is open the fields are disabled (not submitted); the dialog sends the confirmed values */}
        <fieldset className="form-row plain" disabled={confirming !== null}>
          <label>
            Mode
            <select name="mode" value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
              <option value="standard">Standard (llama-bench style)</option>
              <option value="sustained">Sustained (tokens/s over time)</option>
            </select>
          </label>
          <label>
            Model
            <select name="modelId" defaultValue="">
              <option value="">Active model</option>
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Prompt tokens
            <input type="number" name="nPrompt" min={1} max={8192} defaultValue={512} required />
          </label>
          <label>
            Generated tokens
            <input type="number" name="nGen" min={1} max={2048} defaultValue={128} required />
          </label>
          {mode === "standard" ? (
            <label>
              Repetitions
              <input type="number" name="repetitions" min={1} max={20} defaultValue={5} required />
            </label>
          ) : (
            <>
              <label>
                Duration (s)
                <input type="number" name="durationSec" min={2} max={3600} defaultValue={SUSTAINED_DEFAULTS.durationSec} required />
              </label>
              <label>
                Sample every (s)
                <input type="number" name="sampleIntervalSec" min={1} max={60} defaultValue={SUSTAINED_DEFAULTS.sampleIntervalSec} required />
              </label>
              <label>
                Throttling drop (%)
                <input type="number" name="throttleDropPct" min={1} max={90} defaultValue={SUSTAINED_DEFAULTS.throttleDropPct} required />
              </label>
            </>
          )}
        </fieldset>
        {confirming === null ? (
          <button type="button" onClick={askToConfirm}>
            Run benchmark…
          </button>
        ) : null}
        <button type="button" className="secondary" disabled={refreshing} onClick={() => startRefresh(() => router.refresh())}>
          {refreshing ? "Refreshing…" : "Refresh results"}
        </button>
      </div>
      {confirming !== null ? (
        <div role="dialog" aria-label="Confirm benchmark" className="confirm">
          <p>{confirming.text}</p>
          {confirming.values.map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <button type="submit" disabled={pending}>
            {pending ? "Requesting…" : "Confirm benchmark"}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      ) : null}
      <div aria-live="polite">
        {state.status === "requested" ? (
          <p className={`notice ${requestState === "failed" ? "notice-error" : "notice-ok"}`} role="status" aria-label="Benchmark request" data-request-state={requestState}>
            {state.mode === "sustained" ? "Sustained benchmark" : "Benchmark"} {requestState} (command <code>{state.commandId}</code>)
            {requestState === "requested" ? ": waiting for the device's result, which appears below." : null}
            {requestState === "completed" && result ? `: generation ${formatMeanSd(result.generation)} tok/s, prompt ${formatMeanSd(result.promptProcessing)} tok/s.` : null}
            {requestState === "failed" && result ? `: ${result.error ?? "the device reported a failure"}.` : null}
          </p>
        ) : null}
        {state.status === "error" ? (
          <p className="notice notice-error" role="alert">
            Could not request the benchmark: {state.message}
          </p>
        ) : null}
      </div>
    </form>
  );
}
