import { randomUUID } from "node:crypto";
import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { COMMAND_TTL_MS, ErrorCode, signCommand, type TBenchmarkListV1, type TBenchmarkResultV1, type TCommandV1, type TModelLoadV1, type TRuntimeMetricsViewV1, type TMemoryPlanV1, type TMemoryPressureV1 } from "@fleet/protocol";
import type { z } from "zod";
import type { ZBenchmarkRequestV1 } from "@fleet/protocol";
import { AppError, NotFoundError } from "../common/app-error.js";
import { CONFIG, LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import type { ServerKey } from "../common/server-key.js";
import { DevicesRepository } from "../devices/devices.repository.js";
import { NatsService } from "../nats/nats.service.js";
import { RuntimeRepository } from "./runtime.repository.js";
import { actingAs } from "../common/request-context.js";

/**
 * A requested run with no result this long after the request is failed. Generous: the command itself expires
 * within minutes (COMMAND_TTL_MS), but a started benchmark of the largest settings may run for a long time.
 */
export const REQUESTED_RUN_DEADLINE_MS = 2 * 60 * 60_000;

type BenchmarkRequest = z.output<typeof ZBenchmarkRequestV1>;
const pct = (p50: number | null, p95: number | null) => (p50 === null || p95 === null ? null : { p50, p95 });

@Injectable()
export class RuntimeService {
  private readonly log: Logger;

  constructor(
    private readonly repo: RuntimeRepository,
    private readonly devices: DevicesRepository,
    private readonly nats: NatsService,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "RuntimeService" });
  }

  async metrics(deviceId: string, limit: number): Promise<TRuntimeMetricsViewV1> {
    await this.requireDevice(deviceId);
    const { items, loads } = await this.repo.metrics(deviceId, limit);
    return {
      items: items.map((m) => ({
        windowStart: m.windowStart.toISOString(),
        windowEnd: m.windowEnd.toISOString(),
        receivedAt: m.receivedAt.toISOString(),
        stats: {
          modelId: m.modelId,
          sha256: m.sha256,
          requests: m.requests,
          errors: m.errors,
          promptTokens: m.promptTokens,
          outputTokens: m.outputTokens,
          ttftMs: pct(m.ttftP50Ms, m.ttftP95Ms),
          tpotMs: pct(m.tpotP50Ms, m.tpotP95Ms),
        },
        ...(m.memoryPressure ? { memoryPressure: m.memoryPressure as TMemoryPressureV1 } : {}),
      })),
      loads: loads.map(
        (l): TModelLoadV1 => ({
          at: l.at.toISOString(),
          modelId: l.modelId,
          sha256: l.sha256,
          ok: l.ok,
          error: l.error,
          loadMs: l.loadMs,
          backend: l.backend as TModelLoadV1["backend"],
          gpuLayers: l.gpuLayers,
          contextSize: l.contextSize,
          quantization: l.quantization,
          peakRssBytes: Number(l.peakRssBytes),
          peakVramBytes: Number(l.peakVramBytes),
          plan: (l.plan as TMemoryPlanV1 | null) ?? null,
          ...(l.memoryPressure ? { memoryPressure: l.memoryPressure as TMemoryPressureV1 } : {}),
        }),
      ),
    };
  }

  async benchmarks(deviceId: string, limit: number): Promise<TBenchmarkListV1> {
    await this.requireDevice(deviceId);
    // At read time, not on a timer: whoever looks at a device's runs never sees one "requested" past its deadline.
    const deadline = new Date(Date.now() - REQUESTED_RUN_DEADLINE_MS);
    const expired = await this.repo.failRequestedRunsBefore(deviceId, deadline, `no result within ${REQUESTED_RUN_DEADLINE_MS / 60_000} minutes of the request`);
    if (expired > 0) this.log.warn({ deviceId, expired }, "requested benchmark runs without a result past the deadline were marked failed");
    const runs = await this.repo.benchmarks(deviceId, limit);
    return {
      items: runs
        .filter((r) => r.result !== null && r.completedAt !== null && typeof (r.result as { at?: unknown }).at === "string")
        .map((r) => ({ id: r.id, receivedAt: r.completedAt!.toISOString(), result: r.result as TBenchmarkResultV1 })),
    };
  }

  /** Record the request, then publish the signed command; the agent verifies it with the server's public key. */
  async requestBenchmark(deviceId: string, req: BenchmarkRequest, actorName = "admin") {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    const device = await this.requireDevice(deviceId);
    if (device.state !== "active") throw new AppError(ErrorCode.Conflict, `device ${deviceId} is revoked`);
    const commandId = randomUUID();
    const issuedAt = new Date();
    await this.repo.createRequestedRun({ deviceId, commandId, modelId: req.modelId, requestedAt: issuedAt, actor, settings: { ...req } });
    const command: TCommandV1 = {
      v: 1,
      commandId,
      deviceId,
      issuedAt: issuedAt.toISOString(),
      // the device refuses it afterwards (and any second delivery of it): a captured command cannot be replayed
      expiresAt: new Date(issuedAt.getTime() + COMMAND_TTL_MS).toISOString(),
      body: {
        type: "benchmark",
        modelId: req.modelId,
        nPrompt: req.nPrompt,
        nGen: req.nGen,
        repetitions: req.repetitions,
        // sustained mode only when asked: older agents ignore these fields and run the standard benchmark
        ...(req.mode === "sustained" ? { mode: req.mode, durationSec: req.durationSec, sampleIntervalSec: req.sampleIntervalSec, throttleDropPct: req.throttleDropPct } : {}),
      },
    };
    try {
      await this.nats.publishCommand(deviceId, await signCommand(command, this.serverKey.privateKey), commandId);
    } catch (err) {
      this.log.error({ err, deviceId, commandId }, "benchmark command could not be published");
      const recorded = await this.repo.markRunFailed(commandId, "command could not be published").then(
        () => true,
        (dbErr: unknown) => {
          this.log.error({ err: dbErr, deviceId, commandId }, `the failed run could not be recorded; it stays requested until the ${REQUESTED_RUN_DEADLINE_MS / 60_000}-minute deadline fails it`);
          return false;
        },
      );
      throw new AppError(
        ErrorCode.Unavailable,
        recorded
          ? "the message broker did not accept the command; the run is recorded as failed; try again"
          : `the message broker did not accept the command; try again (the run shows as requested until it is failed ${REQUESTED_RUN_DEADLINE_MS / 60_000} minutes after the request)`,
      );
    }
    this.log.info({ deviceId, commandId }, "benchmark requested");
    return { commandId, deviceId, issuedAt: command.issuedAt };
  }

  private async requireDevice(id: string) {
    const d = await this.devices.exists(id);
    if (!d) throw new NotFoundError("device", id);
    return d;
  }
}
