"use server";

import { revalidatePath } from "next/cache";
import { formatIssues, ZCatalogImportRequestV1, ZCatalogTransitionRequestV1 } from "@fleet/protocol";
import { importCatalogEntry, transitionCatalogEntry, type CatalogTransition } from "../../lib/api/catalog";
import { ServerError } from "../../lib/api-errors";
import { describeError } from "../../lib/describeError";

// Catalog mutations, run on the console's server as the signed-in user (the server enforces admin and answers
// 403 otherwise). Form values are validated with the protocol schemas before anything is sent.

export type CatalogActionState = { status: "idle" } | { status: "done"; message: string; entryId?: string } | { status: "error"; message: string };

const text = (form: FormData, key: string): string | undefined => {
  const v = form.get(key);
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
};

/** A refusal in words: 409 says why the server refused (wrong state, quality gate, duplicate). */
function refusal(e: unknown): string {
  if (e instanceof ServerError && e.status === 409) return `Refused by the server: ${e.message}`;
  const d = describeError(e);
  return `${d.title}: ${d.message}`;
}

export async function importEntryAction(_prev: CatalogActionState, form: FormData): Promise<CatalogActionState> {
  const ctx = text(form, "memoryContextSize");
  const req = ZCatalogImportRequestV1.safeParse({
    path: text(form, "path"),
    name: text(form, "name"),
    version: text(form, "version"),
    source: { repository: text(form, "sourceRepository"), revision: text(form, "sourceRevision") },
    conversion: { method: text(form, "conversionMethod") },
    license: text(form, "license"),
    memoryContextSize: ctx === undefined ? undefined : Number(ctx),
  });
  if (!req.success) return { status: "error", message: formatIssues(req.error) };
  if (!req.data.path) return { status: "error", message: "path: the absolute path of a GGUF file on the server is required" };
  try {
    const entry = await importCatalogEntry(req.data);
    revalidatePath("/catalog");
    return { status: "done", message: `Imported ${entry.facts.name} ${entry.facts.version} as a draft.`, entryId: entry.id };
  } catch (e) {
    return { status: "error", message: refusal(e) };
  }
}

const PAST: Record<CatalogTransition, string> = { approve: "Approved", deprecate: "Deprecated", revoke: "Revoked" };

export async function transitionEntryAction(entryId: string, action: CatalogTransition, _prev: CatalogActionState, form: FormData): Promise<CatalogActionState> {
  if (!(action in PAST)) return { status: "error", message: `unknown action ${String(action)}` };
  const body = ZCatalogTransitionRequestV1.safeParse({ reason: text(form, "reason") ?? "" });
  if (!body.success) return { status: "error", message: "A reason is required (it is recorded in the audit log)." };
  try {
    const entry = await transitionCatalogEntry(entryId, action, body.data.reason);
    revalidatePath("/catalog");
    revalidatePath(`/catalog/${entryId}`);
    return { status: "done", message: `${PAST[action]}: ${entry.facts.name} ${entry.facts.version} is now ${entry.state}.` };
  } catch (e) {
    return { status: "error", message: refusal(e) };
  }
}
