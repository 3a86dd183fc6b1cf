import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import { AuditRepository } from "../audit/audit.repository.js";

@Injectable()
export class RuntimeRepository {
  constructor(
    @Inject(PRISMA) private readonly db: Db,
    private readonly audit: AuditRepository,
  ) {}

  async metrics(deviceId: string, limit: number) {
    const [items, loads] = await this.db.$transaction([
      this.db.runtimeMetric.findMany({ where: { deviceId }, orderBy: [{ windowEnd: "desc" }, { modelId: "asc" }], take: limit }),
      this.db.modelLoad.findMany({ where: { deviceId }, orderBy: { at: "desc" }, take: limit }),
    ]);
    return { items, loads };
  }

  async benchmarks(deviceId: string, limit: number) {
    return this.db.benchmarkRun.findMany({
      where: { deviceId, status: { in: ["completed", "failed"] } },
      orderBy: { completedAt: "desc" },
      take: limit,
    });
  }

  async createRequestedRun(input: { deviceId: string; commandId: string; modelId: string | null; requestedAt: Date; actor: string; settings: object }) {
    return this.db.$transaction(async (tx) => {
      const run = await tx.benchmarkRun.create({
        data: { deviceId: input.deviceId, commandId: input.commandId, modelId: input.modelId, requestedAt: input.requestedAt, status: "requested" },
      });
      await this.audit.record(
        { actor: input.actor, action: "benchmark.requested", targetType: "device", targetId: input.deviceId, details: { commandId: input.commandId, ...input.settings } },
        tx,
      );
      return run;
    });
  }

  /**
   * Requested runs with no result by `before` (the command expired, the agent refused it or was off, or a
   * failed run could not be recorded): they become failed with `error`, so none stays "requested" forever.
   */
  async failRequestedRunsBefore(deviceId: string, before: Date, error: string): Promise<number> {
    const { count } = await this.db.benchmarkRun.updateMany({
      where: { deviceId, status: "requested", requestedAt: { lt: before } },
      data: { status: "failed", completedAt: new Date(), result: { error } },
    });
    return count;
  }

  /** The publish failed: the run never reached the device. */
  async markRunFailed(commandId: string, error: string): Promise<void> {
    await this.db.benchmarkRun.updateMany({ where: { commandId, status: "requested" }, data: { status: "failed", result: { error } } });
  }
}
