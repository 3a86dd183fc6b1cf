import { pino, type Logger } from "pino";
import type { LoggerService } from "@nestjs/common";

/** The root pino logger of one server instance; classes take a child with their context. */
export function createRootLogger(level: string): Logger {
  return pino({ level, base: { service: "fleet-server" }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Routes Nest's own log lines (bootstrap, route mapping) into pino as JSON. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.pino.trace({ context }, String(message));
  }
}
