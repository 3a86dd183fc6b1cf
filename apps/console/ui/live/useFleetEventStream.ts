"use client";

import { useEffect, useRef, useState } from "react";
import { ZErrorBody, ZFleetEventV1, type TFleetEventV1 } from "@fleet/protocol";

export type LiveState = { status: "connecting" } | { status: "live" } | { status: "reconnecting"; reason: string | null };

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 15_000];

/** Why the stream route refused (its error JSON), read with a plain request since EventSource hides it. */
async function askWhy(url: string): Promise<string | null> {
  const ctrl = new AbortController();
  try {
    const res = await fetch(url, { signal: ctrl.signal, cache: "no-store" });
    if (res.ok) return null; // it would stream now; the next EventSource will get it
    const body = ZErrorBody.safeParse(await res.json().catch(() => null));
    return body.success ? body.data.error.message : `HTTP ${res.status}`;
  } catch {
    return "the console did not answer";
  } finally {
    ctrl.abort(); // never keep a second stream open
  }
}

/**
 * EventSource on `url`, delivering each valid fleet event to `onEvent` and `onResync` after a gap
 * (the stream came back, so events may have been missed). The browser retries a dropped stream by
 * itself; a refused one (non-200) is reopened here with backoff, after asking the route why.
 */
export function useFleetEventStream(url: string, onEvent: (e: TFleetEventV1) => void, onResync: () => void): LiveState {
  const [state, setState] = useState<LiveState>({ status: "connecting" });
  const handlers = useRef({ onEvent, onResync });
  handlers.current = { onEvent, onResync };

  useEffect(() => {
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let hadGap = false;
    let stopped = false;

    const open = () => {
      es = new EventSource(url);
      es.onopen = () => {
        attempt = 0;
        setState({ status: "live" });
        if (hadGap) handlers.current.onResync();
        hadGap = false;
      };
      es.onmessage = (m: MessageEvent<string>) => {
        let json: unknown;
        try {
          json = JSON.parse(m.data);
        } catch {
          return;
        }
        const parsed = ZFleetEventV1.safeParse(json);
        if (parsed.success) handlers.current.onEvent(parsed.data);
      };
      es.onerror = () => {
        hadGap = true;
        if (es?.readyState === EventSource.CONNECTING) {
          setState((s) => (s.status === "reconnecting" ? s : { status: "reconnecting", reason: null }));
          return;
        }
        // CLOSED: the route answered with an error status; the browser will not retry by itself.
        es?.close();
        const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]!;
        void askWhy(url).then((reason) => {
          if (stopped) return;
          setState({ status: "reconnecting", reason });
          retry = setTimeout(open, delay);
        });
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      es?.close();
    };
  }, [url]);

  return state;
}
