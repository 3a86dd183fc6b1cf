"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import type { TFleetEventOf, TFleetEventV1 } from "@fleet/protocol";
import { eventConcerns } from "../../lib/live/eventConcerns";
import { formatDateTime } from "../../lib/format/index";
import { useFleetEventStream, type LiveState } from "./useFleetEventStream";

const REFRESH_DELAY_MS = 500;
const FALLBACK_REFRESH_MS = 30_000;
const MAX_REJECTIONS = 5;

/** Re-render the server components at most once per window, however many events arrive in it. */
function useCoalescedRefresh(delayMs: number): () => void {
  const router = useRouter();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      router.refresh();
    }, delayMs);
  }, [router, delayMs]);
}

function label(state: LiveState): string {
  if (state.status === "live") return "Live";
  if (state.status === "connecting") return "Connecting to live updates…";
  return `Reconnecting…${state.reason ? ` (${state.reason})` : ""} · refreshing every ${FALLBACK_REFRESH_MS / 1000} s`;
}

/**
 * Live updates for a page: the fleet (`deviceId` null) or one device. Events that concern the page
 * refresh its server components; while the stream is down the page falls back to a 30 s refresh.
 * On a device page, rejected reports of that device are listed: they are a security signal.
 */
export function LiveUpdates({ deviceId }: { deviceId: string | null }) {
  const refresh = useCoalescedRefresh(REFRESH_DELAY_MS);
  const [rejections, setRejections] = useState<Array<TFleetEventOf<"report.rejected">>>([]);
  const router = useRouter();

  const onEvent = useCallback(
    (e: TFleetEventV1) => {
      if (!eventConcerns(e, { deviceId })) return;
      // A rejected report changes nothing stored, so nothing to refresh; on its device's page it is shown.
      if (e.type === "report.rejected") {
        if (deviceId !== null) setRejections((r) => [e, ...r].slice(0, MAX_REJECTIONS));
        return;
      }
      refresh();
    },
    [deviceId, refresh],
  );
  const url = deviceId === null ? "/api/events" : `/api/events?deviceId=${encodeURIComponent(deviceId)}`;
  const state = useFleetEventStream(url, onEvent, refresh);

  const live = state.status === "live";
  useEffect(() => {
    if (live) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, FALLBACK_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, router]);

  return (
    <>
      <p className={`live live-${state.status}`} role="status" data-live={state.status}>
        <span className="live-dot" aria-hidden="true" />
        {label(state)}
      </p>
      {rejections.length > 0 ? (
        <section className="notice notice-error" role="alert" aria-label="Rejected reports">
          <h2>Reports from this device were rejected</h2>
          <ul className="rejections">
            {rejections.map((r, i) => (
              <li key={`${r.at}-${i}`}>
                <strong>{r.data.reason}</strong> at {formatDateTime(r.at)}: {r.data.detail || "no detail"}{" "}
                <span className="mono">({r.data.subject})</span>
              </li>
            ))}
          </ul>
          <button type="button" className="secondary" onClick={() => setRejections([])}>
            Dismiss
          </button>
        </section>
      ) : null}
    </>
  );
}
