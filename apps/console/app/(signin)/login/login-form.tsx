"use client";

import { useActionState } from "react";
import { loginAction } from "../actions";

export function LoginForm({ next }: { next: string }) {
  const [state, submit, pending] = useActionState(loginAction, { status: "idle" });
  return (
    <form action={submit} className="stack-form" aria-label="Sign in">
      <input type="hidden" name="next" value={next} />
      <label>
        Email
        <input type="email" name="email" autoComplete="username" required maxLength={254} autoFocus defaultValue={state.status === "error" ? (state.email ?? "") : ""} />
      </label>
      <label>
        Password
        <input type="password" name="password" autoComplete="current-password" required maxLength={1024} />
      </label>
      {state.status === "error" ? (
        <p className="notice notice-error" role="alert">
          {state.message}
        </p>
      ) : null}
      <button type="submit" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
