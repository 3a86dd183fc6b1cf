"use client";

import Link from "next/link";
import { useActionState, useState } from "react";
import type { CatalogActionState } from "../../app/catalog/actions";

type Action = (prev: CatalogActionState, form: FormData) => Promise<CatalogActionState>;

/** Import a GGUF file that is already on the server (admins only): hashed and read by the server, a draft entry. */
export function ImportForm({ action }: { action: Action }) {
  const [state, submit, pending] = useActionState(action, { status: "idle" });
  const [confirming, setConfirming] = useState(false);

  return (
    <form action={submit} aria-label="Import from server path" className="stack-form" onSubmit={() => setConfirming(false)}>
      <div className="form-row">
        <label>
          File path on the server
          <input type="text" name="path" required placeholder="/var/lib/models/model.gguf" size={40} />
        </label>
        <label>
          Name
          <input type="text" name="name" required pattern="[a-z0-9][a-z0-9._\-]*" placeholder="llama-3-8b-q4" />
        </label>
        <label>
          Version
          <input type="text" name="version" required placeholder="1.0.0" size={10} />
        </label>
      </div>
      <div className="form-row">
        <label>
          Source repository
          <input type="text" name="sourceRepository" required placeholder="hf:meta-llama/Llama-3-8B" size={30} />
        </label>
        <label>
          Source revision
          <input type="text" name="sourceRevision" required placeholder="main or a commit" size={14} />
        </label>
        <label>
          Conversion method
          <input type="text" name="conversionMethod" required placeholder="llama.cpp convert + quantize Q4_K_M" size={30} />
        </label>
        <label>
          License (if not in the file)
          <input type="text" name="license" placeholder="apache-2.0" size={14} />
        </label>
        <label>
          Memory context
          <input type="number" name="memoryContextSize" min={128} max={1048576} defaultValue={4096} />
        </label>
      </div>
      <div className="form-row">
        {confirming ? (
          <>
            <span>The server hashes the file and reads its GGUF header. Import it as a draft?</span>
            <button type="submit" disabled={pending}>
              {pending ? "Importing…" : "Confirm import"}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button
            type="button"
            onClick={(ev) => {
              // the browser's own checks first (required fields), then the confirmation step
              if (ev.currentTarget.form?.reportValidity()) setConfirming(true);
            }}
          >
            Import…
          </button>
        )}
      </div>
      <div aria-live="polite">
        {state.status === "done" ? (
          <p className="notice notice-ok">
            {state.message} {state.entryId ? <Link href={`/catalog/${state.entryId}`}>Open the entry</Link> : null}
          </p>
        ) : null}
        {state.status === "error" ? (
          <p className="notice notice-error" role="alert">
            {state.message}
          </p>
        ) : null}
      </div>
    </form>
  );
}
