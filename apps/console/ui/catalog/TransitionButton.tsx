"use client";

import { useActionState, useState } from "react";
import type { CatalogActionState } from "../../app/catalog/actions";

type Action = (prev: CatalogActionState, form: FormData) => Promise<CatalogActionState>;

/**
 * Approve / deprecate / revoke with a confirmation step: the first click opens a form asking for the reason
 * (required, audited); only "Confirm" sends it. A refusal (409: wrong state, quality gate) is shown as the server said.
 */
export function TransitionButton({ action, label, verb, danger = false }: { action: Action; label: string; verb: string; danger?: boolean }) {
  const [open, setOpen] = useState(false);
  const [state, submit, pending] = useActionState(action, { status: "idle" });

  return (
    <div className="transition">
      {!open || state.status === "done" ? (
        <button type="button" className={danger ? "secondary" : undefined} onClick={() => setOpen(true)} disabled={state.status === "done"}>
          {label}
        </button>
      ) : (
        <form action={submit} aria-label={`${label}: confirm`} className="stack-form">
          <label>
            Reason for {verb} (recorded in the audit log)
            <input type="text" name="reason" required minLength={1} maxLength={1000} autoFocus placeholder="e.g. reviewed license and quality" />
          </label>
          <div className="form-row">
            <button type="submit" disabled={pending}>
              {pending ? "Sending…" : `Confirm ${verb}`}
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)} disabled={pending}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <div aria-live="polite">
        {state.status === "done" ? <p className="notice notice-ok">{state.message}</p> : null}
        {state.status === "error" ? (
          <p className="notice notice-error" role="alert">
            {state.message}
          </p>
        ) : null}
      </div>
    </div>
  );
}
