"use server";

import { z } from "zod";
import { formatIssues } from "@fleet/protocol";
import { actOnRollout, rollbackRolloutDevice, type RolloutAction } from "../../../lib/api/rollouts";
import { describeError } from "../../../lib/describeError";

export type RolloutActionState = { status: "idle" } | { status: "done"; message: string } | { status: "error"; message: string };

const ZActionForm = z.object({
  action: z.enum(["pause", "resume", "abort", "rollback"]),
  reason: z.string().trim().min(1, "give a reason (it is audited)").max(1000),
  deviceId: z.string().min(1).max(200).optional(),
});

const DONE: Record<RolloutAction, string> = { pause: "Paused", resume: "Resumed", abort: "Aborted", rollback: "Rolled back" };

/** Pause/resume/abort/rollback a rollout, or roll back one device, as the signed-in user with an audited reason. */
export async function rolloutAction(rolloutId: string, _prev: RolloutActionState, form: FormData): Promise<RolloutActionState> {
  const parsed = ZActionForm.safeParse({
    action: form.get("action"),
    reason: form.get("reason"),
    deviceId: form.get("deviceId") || undefined,
  });
  if (!parsed.success) return { status: "error", message: formatIssues(parsed.error) };
  const { action, reason, deviceId } = parsed.data;
  try {
    if (deviceId) {
      if (action !== "rollback") return { status: "error", message: "only rollback applies to one device" };
      const d = await rollbackRolloutDevice(rolloutId, deviceId, reason);
      return { status: "done", message: `${d.hostname} is being rolled back.` };
    }
    const r = await actOnRollout(rolloutId, action, reason);
    return { status: "done", message: `${DONE[action]}: the rollout is now ${r.state.replace("_", " ")}.` };
  } catch (e) {
    const d = describeError(e);
    return { status: "error", message: `${d.title}: ${d.message}` };
  }
}
