import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { LOGGER } from "../common/config.token.js";
import { NatsService } from "../nats/nats.service.js";
import { withTimeout } from "../common/with-timeout.js";
import { HealthRepository } from "./health.repository.js";

export interface HealthReport {
  status: "ok" | "degraded";
  checks: { database: CheckResult; nats: CheckResult };
}
type CheckResult = { ok: true } | { ok: false; error: string };

@Injectable()
export class HealthService {
  private readonly log: Logger;

  constructor(
    private readonly repo: HealthRepository,
    private readonly nats: NatsService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "HealthService" });
  }

  async check(): Promise<HealthReport> {
    const [database, nats] = await Promise.all([
      this.probe(() => this.repo.ping(), "database"),
      this.probe(async () => {
        if (!this.nats.isConnected) throw new Error("disconnected");
        await this.nats.nc.flush();
      }, "nats"),
    ]);
    return { status: database.ok && nats.ok ? "ok" : "degraded", checks: { database, nats } };
  }

  private async probe(fn: () => Promise<void>, what: string): Promise<CheckResult> {
    try {
      await withTimeout(fn(), 2000, what);
      return { ok: true };
    } catch (err) {
      // A generic reason only: hosts, connection strings and stacks stay out of an open endpoint.
      this.log.warn({ err, check: what }, "health check failed");
      return { ok: false, error: (err as Error).name === "TimeoutError" ? "timeout" : "unreachable" };
    }
  }
}
