"use client";

import { useActionState } from "react";
import { DEFAULT_WIZARD_VALUES, RING_SLOTS, type WizardState } from "./wizardForm";

type Action = (prev: WizardState, form: FormData) => Promise<WizardState>;

export interface WizardEntry {
  id: string;
  label: string;
}

function FieldError({ errors, name }: { errors: Record<string, string>; name: string }) {
  const e = errors[name];
  return e ? (
    <span className="field-error" role="alert" id={`err-${name}`}>
      {e}
    </span>
  ) : null;
}

/** One validated form: entry, target, rings with their gates. Errors show next to their field. */
export function RolloutWizard({ action, entries, initialEntryId }: { action: Action; entries: WizardEntry[]; initialEntryId: string | null }) {
  const [state, submit, pending] = useActionState(action, { status: "idle" });
  const values = state.status === "invalid" ? state.values : { ...DEFAULT_WIZARD_VALUES, entryId: initialEntryId ?? "" };
  const errors = state.status === "invalid" ? state.errors : {};
  // Remount after each answer so the refilled values become the inputs' defaults.
  const key = state.status === "invalid" ? JSON.stringify(values) + JSON.stringify(errors) : "initial";
  const v = (name: string) => values[name] ?? "";
  const input = (name: string, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label>
      {label}
      <input name={name} defaultValue={v(name)} aria-invalid={errors[name] ? true : undefined} aria-describedby={errors[name] ? `err-${name}` : undefined} {...props} />
      <FieldError errors={errors} name={name} />
    </label>
  );

  return (
    <form action={submit} key={key} aria-label="New rollout" className="stack-form wizard">
      {state.status === "invalid" && state.message ? (
        <p className="notice notice-error" role="alert">
          The server refused the rollout: {state.message}
        </p>
      ) : null}
      <fieldset className="panel">
        <legend>1. Approved entry</legend>
        <label>
          Entry
          <select name="entryId" defaultValue={v("entryId")} aria-invalid={errors.entryId ? true : undefined}>
            <option value="">Choose an approved entry…</option>
            {entries.map((e) => (
              <option key={e.id} value={e.id}>
                {e.label}
              </option>
            ))}
          </select>
          <FieldError errors={errors} name="entryId" />
        </label>
      </fieldset>
      <fieldset className="panel">
        <legend>2. Target</legend>
        <label className="inline">
          <input type="radio" name="target" value="all" defaultChecked={v("target") !== "group"} /> All compatible devices
        </label>
        <label className="inline">
          <input type="radio" name="target" value="group" defaultChecked={v("target") === "group"} /> A device group (devices whose label <code>group</code> is:)
        </label>
        {input("group", "Group", { placeholder: "e.g. finance" })}
        <p className="muted">Incompatible devices are skipped with their reason; they are never sent the model.</p>
      </fieldset>
      <fieldset className="panel">
        <legend>3. Rings and gates</legend>
        <p className="muted">
          Percent is cumulative (share of targeted devices reached by the end of the ring). A ring passes when its soak is over and every gate holds; a failing gate pauses the rollout. Leave a
          ring&apos;s name empty to drop it; leave the tokens/s ratio empty to not gate on speed.
        </p>
        {Array.from({ length: RING_SLOTS }, (_, i) => {
          const p = `rings.${i}`;
          return (
            <div className="form-row ring-row" key={i} aria-label={`Ring ${i + 1}`} role="group">
              {input(`${p}.name`, `Ring ${i + 1} name`, { maxLength: 50 })}
              {input(`${p}.percent`, "Percent", { inputMode: "decimal", size: 5 })}
              {input(`${p}.soakMin`, "Soak (min)", { inputMode: "decimal", size: 5 })}
              {input(`${p}.gates.maxFailureRate`, "Max failures %", { inputMode: "decimal", size: 5 })}
              {input(`${p}.gates.minSuccesses`, "Min successes", { inputMode: "numeric", size: 4 })}
              {input(`${p}.gates.minLoadSuccessRate`, "Min load success %", { inputMode: "decimal", size: 5 })}
              {input(`${p}.gates.maxErrorRate`, "Max error rate %", { inputMode: "decimal", size: 5 })}
              {input(`${p}.gates.minTokensPerSecRatio`, "Min tokens/s ratio", { inputMode: "decimal", size: 5 })}
            </div>
          );
        })}
        <FieldError errors={errors} name="rings" />
      </fieldset>
      <fieldset className="panel">
        <legend>4. Note</legend>
        {input("note", "Note (optional, audited)", { maxLength: 1000 })}
      </fieldset>
      <div className="form-row">
        <button type="submit" disabled={pending}>
          {pending ? "Starting…" : "Start rollout"}
        </button>
        {state.status === "invalid" && Object.keys(errors).length > 0 ? <span className="field-error">Fix the fields marked above.</span> : null}
      </div>
    </form>
  );
}
