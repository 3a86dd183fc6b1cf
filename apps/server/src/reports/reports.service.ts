import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { openReport, REPORT_MAX_FUTURE_SKEW_MS, subjects, type RejectReason, type ReportKind, type Subjects } from "@fleet/protocol";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { CompatibilityService } from "../compatibility/compatibility.service.js";
import { ComplianceService } from "../compliance/compliance.service.js";
import { DeviceKeyCache } from "../devices/device-key.cache.js";
import { PresenceService } from "../devices/presence.service.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { ReportsRepository } from "./reports.repository.js";

export type IngestOutcome =
  | { outcome: "stored"; kind: ReportKind; msgId: string; deviceId: string }
  | { outcome: "duplicate"; msgId: string; deviceId: string }
  | { outcome: "rejected"; reason: RejectReason; detail: string };

export interface IncomingMessage {
  subject: string;
  data: Uint8Array;
  /** JetStream stream sequence, for the audit trail */
  streamSeq: number;
}

/** Verify, de-duplicate and store one device report. Infrastructure failures throw (the caller naks). */
@Injectable()
export class ReportsService {
  private readonly subj: Subjects;

  constructor(
    private readonly repo: ReportsRepository,
    private readonly keys: DeviceKeyCache,
    private readonly presence: PresenceService,
    private readonly metrics: MetricsService,
    private readonly events: FleetEventBus,
    private readonly compat: CompatibilityService,
    private readonly compliance: ComplianceService,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {
    this.subj = subjects(config.subjectPrefix);
  }

  async ingest(msg: IncomingMessage, log: Logger): Promise<IngestOutcome> {
    const target = this.subj.parseReport(msg.subject);
    if (!target) return this.reject(msg, null, "malformed", `not a report subject: ${msg.subject}`, log);

    const opened = await openReport(msg.data, { subject: target, resolveKey: (id) => this.keys.resolve(id) });
    if (!opened.ok) return this.reject(msg, target.deviceId, opened.reason, opened.detail, log);
    const report = opened.value;

    const maxAgeMs = this.config.reportMaxAgeDays * 86_400_000;
    if (Date.now() - Date.parse(report.sentAt) > maxAgeMs) {
      return this.reject(msg, report.deviceId, "replayed", `sentAt ${report.sentAt} is older than ${this.config.reportMaxAgeDays} days`, log);
    }
    // A device clock that jumped ahead would otherwise stamp a snapshot "newer" than every correct one after it
    // (the models writer ignores reports older than what it applied), freezing that device's state.
    if (Date.parse(report.sentAt) - Date.now() > REPORT_MAX_FUTURE_SKEW_MS) {
      return this.reject(msg, report.deviceId, "clock_skew", `sentAt ${report.sentAt} is more than ${REPORT_MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server's clock`, log);
    }

    const receivedAt = new Date();
    const stored = await this.repo.store(report, receivedAt);
    const ids = { msgId: report.msgId, deviceId: report.deviceId };
    if (stored.outcome === "duplicate") {
      this.metrics.reportsDuplicate.inc();
      log.info({ ...ids, kind: report.kind }, "duplicate report ignored");
      return { outcome: "duplicate", ...ids };
    }
    if (stored.outcome === "device_gone") {
      this.keys.forget(report.deviceId);
      return this.reject(msg, report.deviceId, "unknown_device", `device ${report.deviceId} was revoked while its report was processed`, log);
    }
    this.metrics.reportsProcessed.inc({ kind: report.kind });
    // A device clock ahead of ours would give a negative latency: count it as 0 rather than drop the sample.
    this.metrics.ingestLatency.observe({ kind: report.kind }, Math.max(0, Date.now() - Date.parse(report.sentAt)) / 1000);
    log.info({ ...ids, kind: report.kind, seq: report.seq, stale: stored.stale ?? false }, "report stored");
    this.presence.markSeen(report.deviceId, receivedAt);
    this.events.publish(FleetEvent.DeviceReported, report.deviceId, { kind: report.kind, msgId: report.msgId });
    // Queued, debounced and batched: a report never waits for the compatibility recompute.
    if (report.kind === "inventory") this.compat.scheduleDevice(report.deviceId);
    if (report.kind === "posture" || report.kind === "models") this.compliance.scheduleDevice(report.deviceId);
    // A catalog model that was planned to fit here but paged heavily: its class for this device is corrected.
    for (const h of stored.heavyPaging ?? []) {
      if (!h.sha256) continue;
      this.compat
        .learnMemoryPressure(report.deviceId, h.sha256, h.reason)
        .catch((err: unknown) => log.error({ err, ...ids, modelId: h.modelId }, "could not correct compatibility from measured memory pressure"));
    }
    if (report.kind === "benchmark" && stored.benchmarkRunId) {
      this.events.publish(FleetEvent.BenchmarkCompleted, report.deviceId, { commandId: report.body.commandId, ok: report.body.ok, runId: stored.benchmarkRunId });
    }
    // The rollout scheduler listens for this: a device's row moved, so its ring may now promote or fail.
    if (report.kind === "update" && stored.update?.changed && stored.update.rolloutId) {
      this.events.publish(FleetEvent.RolloutDeviceUpdated, report.deviceId, { rolloutId: stored.update.rolloutId, state: report.body.state, code: report.body.code });
    }
    // The rollout scheduler listens for this: a device's row moved, so its ring may now promote or fail.
    if (report.kind === "update" && stored.update?.changed && stored.update.rolloutId) {
      this.events.publish(FleetEvent.RolloutDeviceUpdated, report.deviceId, { rolloutId: stored.update.rolloutId, state: report.body.state, code: report.body.code });
    }
    return { outcome: "stored", kind: report.kind, ...ids };
  }

  private async reject(msg: IncomingMessage, deviceId: string | null, reason: RejectReason, detail: string, log: Logger): Promise<IngestOutcome> {
    log.warn({ reason, detail, deviceId }, "report rejected");
    this.events.publish(FleetEvent.ReportRejected, deviceId, { reason, detail, subject: msg.subject });
    try {
      await this.repo.recordRejection({ reason, detail, subject: msg.subject, deviceId, streamSeq: msg.streamSeq });
    } catch (err) {
      // The rejection stands even if the audit row cannot be written now; the log line above keeps it.
      log.error({ err, reason }, "could not write the audit row of a rejected report");
    }
    // counted after the audit write: whoever sees the count (a test, an alert) finds the audit row there
    this.metrics.reportsRejected.inc({ reason });
    return { outcome: "rejected", reason, detail };
  }

  /** Whether the database answers: tells a transient outage from a message that can never be stored. */
  databaseUp(): Promise<boolean> {
    return this.repo.ping();
  }
}
