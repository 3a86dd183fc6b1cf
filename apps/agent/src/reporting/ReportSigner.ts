import { randomUUID } from "node:crypto";
import {
  decodeReportBody,
  importPrivateJwk,
  MAX_REPORT_BYTES,
  signReport,
  type ReportBody,
  type ReportKind,
  type TReportV1,
} from "@fleet/protocol";
import type { DiskQueue, QueuedMessage } from "../queue/DiskQueue.js";
import type { AgentState } from "../state/ZAgentState.js";

export class ReportInvalidError extends Error {
  override name = "ReportInvalidError";
}

/**
 * Turns a report body into a signed envelope and stores it in the queue. Signing happens here, at creation,
 * so what waits on disk is exactly what the server will verify. Bodies are validated first: an invalid or
 * oversized report is refused here rather than rejected by the server after a long wait in the queue.
 */
export class ReportSigner {
  private constructor(
    private readonly deviceId: string,
    private readonly key: Awaited<ReturnType<typeof importPrivateJwk>>,
    private readonly queue: DiskQueue,
  ) {}

  static async create(state: AgentState, queue: DiskQueue): Promise<ReportSigner> {
    return new ReportSigner(state.deviceId, await importPrivateJwk({ ...state.privateJwk }), queue);
  }

  async enqueue<K extends ReportKind>(kind: K, body: ReportBody<K>): Promise<QueuedMessage> {
    const checked = decodeReportBody(kind, body);
    if (!checked.ok) throw new ReportInvalidError(`${kind} report is invalid: ${checked.reason}`);
    return this.queue.append(kind, async (seq) => {
      const msgId = randomUUID();
      const envelope = { v: 1, kind, deviceId: this.deviceId, msgId, seq, sentAt: new Date().toISOString(), body: checked.value } as TReportV1;
      const data = await signReport(envelope, this.key);
      if (Buffer.byteLength(data) > MAX_REPORT_BYTES) {
        throw new ReportInvalidError(`${kind} report is ${Buffer.byteLength(data)} bytes, over the ${MAX_REPORT_BYTES} limit`);
      }
      return { msgId, data };
    });
  }
}
