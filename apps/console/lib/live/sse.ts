// Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).

/** One `message` event carrying `data` as JSON (JSON has no raw newlines, so one data line suffices). */
export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by EventSource, but keeps the connection from idling out. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** How long the browser waits before reconnecting after the stream ends. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}
