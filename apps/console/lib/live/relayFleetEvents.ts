import "server-only";
import type { Socket } from "socket.io-client";
import { formatIssues, ZFleetEventV1 } from "@fleet/protocol";
import { eventConcerns, type LiveScope } from "./eventConcerns";
import { sseComment, sseData, sseRetry } from "./sse";
import { logLine } from "../logLine";

/** The browser reconnects this long after the stream ends (server restart, upstream drop). */
const RETRY_MS = 2_000;

/**
 * A text/event-stream body that relays every valid fleet event the upstream socket emits (only the
 * scope's device when it names one), with a comment every `heartbeatMs`. Closing either side ends both:
 * the browser going away (abort `signal` or stream cancel) closes the upstream socket, and the upstream
 * dropping ends the stream so the browser reconnects.
 */
export function relayFleetEvents(socket: Socket, opts: { scope: LiveScope; heartbeatMs: number; signal: AbortSignal }): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (text: string) => {
        if (open) controller.enqueue(enc.encode(text));
      };
      const onAny = (name: string, payload: unknown) => {
        const parsed = ZFleetEventV1.safeParse(payload);
        if (!parsed.success || parsed.data.type !== name) {
          // Version skew or a bad upstream: skip it (parsed output only, so nothing unknown is ever relayed).
          logLine("warn", "fleet event dropped", { event: name, reason: parsed.success ? "name differs from type" : formatIssues(parsed.error) });
          return;
        }
        if (opts.scope.deviceId === null || eventConcerns(parsed.data, opts.scope)) send(sseData(parsed.data));
      };
      const onDisconnect = (reason: string) => {
        logLine("info", "fleet event upstream closed", { reason });
        cleanup();
        controller.close();
      };
      const heartbeat = setInterval(() => send(sseComment("heartbeat")), opts.heartbeatMs);
      cleanup = () => {
        if (!open) return;
        open = false;
        clearInterval(heartbeat);
        socket.offAny(onAny);
        socket.off("disconnect", onDisconnect);
        opts.signal.removeEventListener("abort", onAbort);
        socket.close();
      };
      const onAbort = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed or cancelled by the reader
        }
      };
      socket.onAny(onAny);
      socket.on("disconnect", onDisconnect);
      opts.signal.addEventListener("abort", onAbort);
      // Flush headers and a first line at once, so EventSource reports "open" without waiting for an event.
      send(sseRetry(RETRY_MS) + sseComment("connected"));
      if (opts.signal.aborted || socket.disconnected) onAbort();
    },
    cancel() {
      cleanup();
    },
  });
}
