// One JSON line per log record on stdout/stderr, shaped like pino's (level, time, msg), without a
// logger dependency that the bundler would have to carry into route handlers.
const LEVELS = { info: 30, warn: 40, error: 50 } as const;

export function logLine(level: keyof typeof LEVELS, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level: LEVELS[level], time: Date.now(), name: "fleet-console", msg, ...fields });
  if (level === "info") process.stdout.write(line + "\n");
  else process.stderr.write(line + "\n");
}
