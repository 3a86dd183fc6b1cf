import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs to stdout (or a given stream); each class takes a child with its own `component`. */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? "info";
  return opts.destination ? pino({ level, base: { app: "fleet-agent" } }, opts.destination) : pino({ level, base: { app: "fleet-agent" } });
}

/** A logger that drops everything, for in-process callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
