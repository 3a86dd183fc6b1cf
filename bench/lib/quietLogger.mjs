// A pino-compatible logger that keeps warnings and errors on stderr (bench has no pino dependency).
export function quietLogger() {
  const log = {
    trace() {},
    debug() {},
    info() {},
    warn: (obj, msg) => process.stderr.write(`warn: ${msg ?? ""} ${JSON.stringify(obj)}\n`),
    error: (obj, msg) => process.stderr.write(`error: ${msg ?? ""} ${JSON.stringify(obj)}\n`),
    fatal: (obj, msg) => process.stderr.write(`fatal: ${msg ?? ""} ${JSON.stringify(obj)}\n`),
    child: () => log,
    flush() {},
  };
  return log;
}
