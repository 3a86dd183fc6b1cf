"use server";

import { redirect } from "next/navigation";
import { ZCreateRolloutRequestV1 } from "@fleet/protocol";
import { createRollout } from "../../../lib/api/rollouts";
import { ServerError } from "../../../lib/api-errors";
import { describeError } from "../../../lib/describeError";
import { fieldOfIssuePath, parseWizardForm, RING_SLOTS, type WizardState } from "../../../ui/rollouts/wizardForm";

/**
 * Create a rollout from the wizard. Runs on the console's server as the signed-in user; the form is validated
 * with the protocol's schema first so errors show next to their field, then the server decides (403, 409 …).
 */
export async function createRolloutAction(_prev: WizardState, form: FormData): Promise<WizardState> {
  const { values, request, errors, slotOf } = parseWizardForm(form, RING_SLOTS);
  if (!request) return { status: "invalid", values, errors, message: null };
  const parsed = ZCreateRolloutRequestV1.safeParse(request);
  if (!parsed.success) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of parsed.error.issues) fieldErrors[fieldOfIssuePath(issue.path, slotOf)] ??= issue.message;
    return { status: "invalid", values, errors: fieldErrors, message: null };
  }
  let id: string;
  try {
    id = (await createRollout(parsed.data)).id;
  } catch (e) {
    if (e instanceof ServerError && e.status !== 401) return { status: "invalid", values, errors: {}, message: e.message };
    const d = describeError(e);
    return { status: "invalid", values, errors: {}, message: `${d.title}: ${d.message}` };
  }
  redirect(`/rollouts/${id}`);
}
