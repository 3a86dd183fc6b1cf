"use client";

import { useRouter } from "next/navigation";
import { useActionState, useTransition } from "react";
import type { BenchmarkActionState } from "./actions";

type Action = (prev: BenchmarkActionState, form: FormData) => Promise<BenchmarkActionState>;

/** The "Run benchmark" form; the bound server action carries the device id. */
export function RunBenchmarkForm({ action, models }: { action: Action; models: Array<{ id: string; label: string }> }) {
  const [state, submit, pending] = useActionState(action, { status: "idle" });
  const router = useRouter();
  const [refreshing, startRefresh] = useTransition();

  return (
    <form action={submit} aria-label="Run benchmark">
      <div className="form-row">
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
        <label>
          Repetitions
          <input type="number" name="repetitions" min={1} max={20} defaultValue={5} required />
        </label>
        <button type="submit" disabled={pending}>
          {pending ? "Requesting…" : "Run benchmark"}
        </button>
        <button type="button" className="secondary" disabled={refreshing} onClick={() => startRefresh(() => router.refresh())}>
          {refreshing ? "Refreshing…" : "Refresh results"}
        </button>
      </div>
      <div aria-live="polite">
        {state.status === "requested" ? (
          <p className="notice notice-ok">
            Benchmark requested (command <code>{state.commandId}</code>). The result appears below when the device reports it.
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
