"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import type { RolloutActionState } from "../../app/rollouts/[id]/actions";

type Action = (prev: RolloutActionState, form: FormData) => Promise<RolloutActionState>;

/**
 * A button that opens an inline confirmation asking for a reason (the API records it in the audit log), then
 * runs the bound server action. `deviceId` set: roll back that one device.
 */
export function ConfirmAction({
  action,
  kind,
  label,
  question,
  danger = false,
  deviceId,
  small = false,
}: {
  action: Action;
  kind: "pause" | "resume" | "abort" | "rollback";
  label: string;
  question: string;
  danger?: boolean;
  deviceId?: string;
  small?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [state, submit, pending] = useActionState(action, { status: "idle" });
  const router = useRouter();
  useEffect(() => {
    if (state.status === "done") {
      setOpen(false);
      router.refresh();
    }
  }, [state, router]);

  return (
    <span className="confirm-action">
      {open ? (
        <form action={submit} role="dialog" aria-label={`Confirm ${label}`} className="confirm">
          <p>{question}</p>
          <input type="hidden" name="action" value={kind} />
          {deviceId ? <input type="hidden" name="deviceId" value={deviceId} /> : null}
          <label>
            Reason
            <input name="reason" required maxLength={1000} autoFocus />
          </label>
          <button type="submit" disabled={pending} className={danger ? "danger" : undefined}>
            {pending ? "Working…" : `Confirm ${label.toLowerCase()}`}
          </button>
          <button type="button" className="secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" className={`${small ? "small " : ""}${danger ? "danger" : "secondary"}`} onClick={() => setOpen(true)}>
          {label}
        </button>
      )}
      {state.status === "error" ? (
        <span className="field-error" role="alert">
          {state.message}
        </span>
      ) : null}
      {state.status === "done" && !open ? (
        <span className="notice-ok" role="status">
          {state.message}
        </span>
      ) : null}
    </span>
  );
}
