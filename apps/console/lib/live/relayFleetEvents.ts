import "server-only";
import type { FanOut } from "./fanOut";
import type { HubMessage } from "./eventHub";
import { eventConcerns, type LiveScope } from "./eventConcerns";
import { sseComment, sseData, sseRetry } from "./sse";

/** The browser reconnects this long after the stream ends (server restart, upstream drop). */
const RETRY_MS = 2_000;

export interface RelayOptions {
  scope: LiveScope;
  heartbeatMs: number;
  signal: AbortSignal;
  /** checked every heartbeat; false ends the stream (the session was signed out or expired) */
  stillAllowed: () => Promise<boolean>;
}

/**
 * A text/event-stream body relaying the shared upstream's fleet events (only the scope's device when it
 * names one), with a comment every `heartbeatMs`. `subscribe` already holds this stream's place under the
 * cap; ending the stream (browser gone, upstream down, session ended) releases it.
 */
export function relayFleetEvents(fan: FanOut<HubMessage>, opts: RelayOptions): ReadableStream<Uint8Array> | null {
  const enc = new TextEncoder();
  let cleanup = () => {};
  let unsubscribe: (() => void) | null = null;
  let deliver: (m: HubMessage) => void = () => {};
  unsubscribe = fan.subscribe((m) => deliver(m));
  if (!unsubscribe) return null;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (text: string) => {
        if (open) controller.enqueue(enc.encode(text));
      };
      const end = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed or cancelled by the reader
        }
      };
      deliver = (m) => {
        if (m.kind === "down") return end();
        if (opts.scope.deviceId === null || eventConcerns(m.event, opts.scope)) send(sseData(m.event));
      };
      const heartbeat = setInterval(() => {
        send(sseComment("heartbeat"));
        void opts.stillAllowed().then(
          (ok) => {
            if (!ok) end();
          },
          () => undefined,
        );
      }, opts.heartbeatMs);
      cleanup = () => {
        if (!open) return;
        open = false;
        clearInterval(heartbeat);
        unsubscribe?.();
        opts.signal.removeEventListener("abort", end);
      };
      opts.signal.addEventListener("abort", end);
      // Flush headers and a first line at once, so EventSource reports "open" without waiting for an event.
      send(sseRetry(RETRY_MS) + sseComment("connected"));
      if (opts.signal.aborted) end();
    },
    cancel() {
      cleanup();
    },
  });
}
