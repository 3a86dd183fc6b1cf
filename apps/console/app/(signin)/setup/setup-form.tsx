"use client";

import { useActionState } from "react";
import { setupAction } from "../actions";

export function SetupForm({ token }: { token: string }) {
  const [state, submit, pending] = useActionState(setupAction, { status: "idle" });
  return (
    <form action={submit} className="stack-form" aria-label="Set password">
      <input type="hidden" name="token" value={token} />
      <label>
        New password
        <input type="password" name="password" autoComplete="new-password" required minLength={12} maxLength={1024} autoFocus />
      </label>
      <label>
        Repeat it
        <input type="password" name="confirm" autoComplete="new-password" required minLength={12} maxLength={1024} />
      </label>
      {state.status === "error" ? (
        <p className="notice notice-error" role="alert">
          {state.message}
        </p>
      ) : null}
      <button type="submit" disabled={pending}>
        {pending ? "Saving…" : "Set password and sign in"}
      </button>
    </form>
  );
}
