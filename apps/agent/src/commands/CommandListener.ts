import type { ConsumerMessages } from "nats";
import { importPublicJwk, openCommand, type TCommandV1 } from "@fleet/protocol";
import type { Logger } from "../logger.js";
import type { NatsLink } from "../reporting/NatsLink.js";
import type { AgentState } from "../state/ZAgentState.js";
import type { GateVerdict } from "./CommandGate.js";
import { describeError } from "../util/describeError.js";
import { sleep } from "../util/sleep.js";

export interface CommandListenerOptions {
  link: NatsLink;
  state: AgentState;
  subjectPrefix: string;
  stream: string;
  logger: Logger;
  /** act on a verified command; errors are logged, the command is still acked (it will not get better by redelivery) */
  onCommand: (command: TCommandV1) => Promise<void>;
  /** a message that failed verification; it is terminated, never redelivered */
  onRefused: (reason: string, detail: string, commandId?: string) => Promise<void>;
  /** wait between attempts while the command stream or this device's consumer does not exist yet */
  retryMs?: number;
  /** validity window and run-once check of a verified command (CommandGate); its refusals go to onRefused */
  gate?: { admit(command: TCommandV1): Promise<GateVerdict> };
}

/**
 * Reads this device's commands from a durable JetStream consumer `agent-<deviceId>` on the command stream,
 * so commands sent while the agent was off are delivered when it comes back. The server creates that consumer
 * (at enrollment, and again if it goes missing): a device may only read it, never create one. Every message is verified with
 * the server's key and the device id before anything acts on it.
 */
export class CommandListener {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: CommandListenerOptions) {
    this.log = opts.logger.child({ component: "CommandListener" });
  }

  get durableName(): string {
    return `agent-${this.opts.state.deviceId}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.messages?.stop();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const serverKey = await importPublicJwk({ ...this.opts.state.serverPublicJwk });
    while (!signal.aborted) {
      await this.opts.link.whenConnected(signal);
      const nc = this.opts.link.connection;
      if (signal.aborted) return;
      if (!nc || !this.opts.link.connected) {
        await sleep(200, signal);
        continue;
      }
      try {
        const consumer = await nc.jetstream().consumers.get(this.opts.stream, this.durableName);
        this.messages = await consumer.consume({ max_messages: 16 });
        this.log.info({ stream: this.opts.stream, consumer: this.durableName }, "listening for commands");
        for await (const m of this.messages) {
          const opened = await openCommand(m.data, serverKey, this.opts.state.deviceId);
          if (!opened.ok) {
            this.log.warn({ reason: opened.reason, detail: opened.detail, subject: m.subject }, "refused a command");
            m.term();
            await this.opts.onRefused(opened.reason, opened.detail).catch(() => {});
            continue;
          }
          const admitted = (await this.opts.gate?.admit(opened.value)) ?? { ok: true };
          if (!admitted.ok) {
            this.log.warn({ reason: admitted.reason, detail: admitted.detail, commandId: opened.value.commandId }, "refused a command");
            m.term();
            await this.opts.onRefused(admitted.reason, admitted.detail, opened.value.commandId).catch(() => {});
            continue;
          }
          m.ack();
          await this.opts.onCommand(opened.value).catch((err) =>
            this.log.error({ commandId: opened.value.commandId, err: describeError(err) }, "command failed"),
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log.warn({ stream: this.opts.stream, err: describeError(err) }, "command stream or this device's consumer not available yet (the server creates it); will retry");
      } finally {
        this.messages = null;
      }
      await sleep(this.opts.retryMs ?? 30_000, signal);
    }
  }
}
