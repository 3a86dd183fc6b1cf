"use server";

import { formatIssues, ZBenchmarkRequestV1, ZDeviceId } from "@fleet/protocol";
import { requestBenchmark } from "../../../lib/api";
import { describeError } from "../../../lib/describeError";

export type BenchmarkActionState =
  | { status: "idle" }
  | { status: "requested"; commandId: string; issuedAt: string; mode: "standard" | "sustained" }
  | { status: "error"; message: string };

const optionalInt = (v: FormDataEntryValue | null) => (typeof v === "string" && v.trim() !== "" ? Number(v) : undefined);

/**
 * Ask the server to run a benchmark (standard or sustained) on a device. Runs on the console's server, so the admin
 * token never reaches the browser; the form values are validated with the protocol schema first.
 */
export async function requestBenchmarkAction(deviceId: string, _prev: BenchmarkActionState, form: FormData): Promise<BenchmarkActionState> {
  const id = ZDeviceId.safeParse(deviceId);
  if (!id.success) return { status: "error", message: `invalid device id: ${formatIssues(id.error)}` };
  const modelId = form.get("modelId");
  const request = ZBenchmarkRequestV1.safeParse({
    modelId: typeof modelId === "string" && modelId !== "" ? modelId : null,
    nPrompt: optionalInt(form.get("nPrompt")),
    nGen: optionalInt(form.get("nGen")),
    repetitions: optionalInt(form.get("repetitions")),
    mode: form.get("mode") === "sustained" ? "sustained" : "standard",
    durationSec: optionalInt(form.get("durationSec")),
    sampleIntervalSec: optionalInt(form.get("sampleIntervalSec")),
    throttleDropPct: optionalInt(form.get("throttleDropPct")),
  });
  if (!request.success) return { status: "error", message: formatIssues(request.error) };
  try {
    const res = await requestBenchmark(id.data, request.data);
    return { status: "requested", commandId: res.commandId, issuedAt: res.issuedAt, mode: request.data.mode };
  } catch (e) {
    const d = describeError(e);
    return { status: "error", message: `${d.title}: ${d.message}` };
  }
}
