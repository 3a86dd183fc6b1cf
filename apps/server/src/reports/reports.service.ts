import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import {
  badSignature,
  decodeReportPayload,
  REPORT_MAX_FUTURE_SKEW_MS,
  splitReportJws,
  subjects,
  type RejectReason,
  type ReportJws,
  type ReportKind,
  type ReportSubject,
  type Subjects,
  type TReportV1,
} from "@fleet/protocol";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { MetricsService } from "../common/metrics.service.js";
import { CompatibilityService } from "../compatibility/compatibility.service.js";
import { ComplianceService } from "../compliance/compliance.service.js";
import { DeviceKeyCache } from "../devices/device-key.cache.js";
import { PresenceService } from "../devices/presence.service.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { ArrivalClock } from "./arrival-clock.js";
import { reportWriters } from "./report-writers.js";
import { ReportsRepository, type DeviceChange, type StoreResult } from "./reports.repository.js";
import { SignatureVerifier } from "./signature-verifier.js";

export type IngestOutcome =
  | { outcome: "stored"; kind: ReportKind; msgId: string; deviceId: string }
  | { outcome: "duplicate"; msgId: string; deviceId: string }
  | { outcome: "rejected"; reason: RejectReason; detail: string };

/** A batch after verification: what is to be stored, and the outcomes already known (rejections). */
export interface VerifiedBatch {
  msgs: IncomingMessage[];
  outcomes: (IngestOutcome | undefined)[];
  accepted: { i: number; report: TReportV1 }[];
  /** a msgId already accepted earlier in this batch */
  repeats: { i: number; report: TReportV1 }[];
  /** audit writes of the rejections, awaited before the outcomes are returned */
  rejections: Promise<void>[];
}

/** A message refused before it is stored, with the device it names (null: no readable device). */
type Refusal = { ok: false; deviceId: string | null; reason: RejectReason; detail: string };
/** A message whose signature is still to be checked, with its signer's public key (JWK x). */
type ToVerify = { target: ReportSubject; jws: ReportJws; x: string };

export interface IncomingMessage {
  subject: string;
  data: Uint8Array;
  /** JetStream stream sequence, for the audit trail */
  streamSeq: number;
}

/** Verify, de-duplicate and store device reports, a batch at a time. Infrastructure failures throw (the caller naks). */
@Injectable()
export class ReportsService {
  private readonly subj: Subjects;
  /** The agent version each device last reported, as stored: a heartbeat writes Device.agentVersion only on a change. */
  private readonly agentVersions = new Map<string, string>();
  private static readonly MAX_KNOWN_VERSIONS = 200_000;
  /** receivedAt of every stored report: in each device's order across batches and lanes */
  private readonly arrivals = new ArrivalClock();

  constructor(
    private readonly repo: ReportsRepository,
    private readonly keys: DeviceKeyCache,
    private readonly verifier: SignatureVerifier,
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
    const [outcome] = await this.ingestBatch([msg], log);
    return outcome!;
  }

  /**
   * One outcome per message, same order. The stored ones are committed in one transaction before this returns;
   * if that transaction fails this throws and nothing of the batch was stored. Rejections are final either way.
   */
  async ingestBatch(msgs: IncomingMessage[], log: Logger): Promise<IngestOutcome[]> {
    return this.commitBatch(await this.verifyBatch(msgs, log), log);
  }

  /**
   * The CPU half of a batch: subject, signature, schema and clock checks (no database work beyond device key
   * lookups). Rejections are final and start their audit writes here. The consumer verifies the next batch while the
   * previous one commits.
   */
  async verifyBatch(msgs: IncomingMessage[], log: Logger): Promise<VerifiedBatch> {
    const outcomes: (IngestOutcome | undefined)[] = new Array(msgs.length);
    const targets = msgs.map((m) => this.subj.parseReport(m.subject));
    // the keys of devices not cached yet in one query, not one per device (a fleet's first minute after a start)
    await this.keys.prefetch(targets.flatMap((t) => t?.deviceId ?? []));
    const split = await Promise.all(msgs.map((m, i) => this.split(m, targets[i] ?? null)));
    // every signature of the batch at once, on the verification threads
    const signed = split.flatMap((s) => ("jws" in s ? [s] : []));
    const verdicts = await this.verifier.verifyMany(signed.map((s) => ({ signingInput: s.jws.signingInput, signature: s.jws.signature, x: s.x })));
    const verified = new Map(signed.map((s, k) => [s, verdicts[k]!]));
    const opened = split.map((s) => ("jws" in s ? this.decode(s, verified.get(s)!) : s));
    const accepted: { i: number; report: TReportV1 }[] = [];
    const repeats: { i: number; report: TReportV1 }[] = [];
    const seen = new Set<string>();
    const rejections: Promise<void>[] = [];
    opened.forEach((o, i) => {
      if (!o.ok) {
        rejections.push(this.reject(msgs[i]!, o.deviceId, o.reason, o.detail, log).then((r) => void (outcomes[i] = r)));
        return;
      }
      // The same msgId twice in one batch (a publisher retry): the first is stored, the second is its duplicate.
      (seen.has(o.report.msgId) ? repeats : accepted).push({ i, report: o.report });
      seen.add(o.report.msgId);
    });
    return { msgs, outcomes, accepted, repeats, rejections };
  }

  /**
   * The database half: the accepted reports are committed in one transaction before this returns; if that
   * transaction fails this throws and nothing of the batch was stored (its rejections stand).
   */
  async commitBatch(batch: VerifiedBatch, log: Logger): Promise<IngestOutcome[]> {
    const { msgs, outcomes, accepted, repeats, rejections } = batch;
    if (accepted.length) {
      const reports = accepted.map((a) => a.report);
      const arrival = this.arrivals.stamp(reports);
      const receivedAt = arrival.at;
      const t0 = performance.now();
      const changes = this.deviceChanges(reports, receivedAt);
      const stored = await this.repo.storeBatch(reports, arrival.stampOf, [...changes.values()]);
      if (this.agentVersions.size + changes.size > ReportsService.MAX_KNOWN_VERSIONS) this.agentVersions.clear();
      for (const c of changes.values()) if (c.agentVersion !== null) this.agentVersions.set(c.id, c.agentVersion);
      const counts = { stored: 0, duplicate: 0, stale: 0 };
      for (let k = 0; k < accepted.length; k++) {
        const { i, report } = accepted[k]!;
        const res = stored[k]!;
        if (res.outcome === "device_gone") {
          this.keys.forget(report.deviceId);
          this.agentVersions.delete(report.deviceId);
          rejections.push(
            this.reject(msgs[i]!, report.deviceId, "unknown_device", `device ${report.deviceId} was revoked while its report was processed`, log).then((r) => void (outcomes[i] = r)),
          );
          continue;
        }
        if (res.outcome === "duplicate") {
          counts.duplicate++;
          outcomes[i] = this.duplicate(report, log);
          continue;
        }
        counts.stored++;
        if (res.stale) counts.stale++;
        outcomes[i] = this.afterStore(report, res, receivedAt, log);
      }
      log.info({ batch: msgs.length, ...counts, commitMs: Math.round(performance.now() - t0) }, "report batch stored");
    }
    // Repeats of a msgId within this batch: after the first was settled one way or the other.
    for (const { i, report } of repeats) outcomes[i] = this.duplicate(report, log);
    await Promise.all(rejections);
    return outcomes.map((o) => o!);
  }

  /**
   * Device row changes that must commit with the batch: an agent version that differs from the one last stored, and
   * lastSeenAt of a device not online yet (its status must read "online" once its report is stored). Everything else
   * about liveness waits for PresenceService's flush.
   */
  private deviceChanges(reports: TReportV1[], receivedAt: Date): Map<string, DeviceChange> {
    const changes = new Map<string, DeviceChange>();
    const change = (id: string) => {
      let c = changes.get(id);
      if (!c) changes.set(id, (c = { id, agentVersion: null, seenAt: null, seq: null }));
      return c;
    };
    for (const r of reports) {
      if (r.kind === "heartbeat" && this.agentVersions.get(r.deviceId) !== r.body.agentVersion) change(r.deviceId).agentVersion = r.body.agentVersion;
      // Not from kinds with Prisma writers: they commit in a lane of their own (ReportConsumer), and two lanes
      // writing one device's liveness row would wait on each other. Such a device is online after the flush.
      if (!this.presence.isOnline(r.deviceId) && !reportWriters[r.kind].needsPrisma) {
        const c = change(r.deviceId);
        c.seenAt = receivedAt;
        c.seq = Math.max(c.seq ?? -1, r.seq);
      }
    }
    return changes;
  }

  /** The checks of one message up to its signature (subject, JWS form and header, an active signer); no database work beyond a key lookup. */
  private async split(msg: IncomingMessage, target: ReportSubject | null): Promise<Refusal | ToVerify> {
    if (!target) return { ok: false, deviceId: null, reason: "malformed", detail: `not a report subject: ${msg.subject}` };
    const split = splitReportJws(msg.data, target);
    if (!split.ok) return { ok: false, deviceId: target.deviceId, reason: split.reason, detail: split.detail };
    const x = await this.keys.resolveX(split.value.kid);
    if (!x) return { ok: false, deviceId: target.deviceId, reason: "unknown_device", detail: `no active device ${split.value.kid}` };
    return { target, jws: split.value, x };
  }

  /** After the signature was checked: payload, schema and clock checks. */
  private decode({ target, jws }: ToVerify, signatureOk: boolean): Refusal | { ok: true; report: TReportV1 } {
    const opened = signatureOk ? decodeReportPayload(jws, target) : badSignature(jws);
    if (!opened.ok) return { ok: false, deviceId: target.deviceId, reason: opened.reason, detail: opened.detail };
    const report = opened.value;
    const sentAt = Date.parse(report.sentAt);
    const maxAgeMs = this.config.reportMaxAgeDays * 86_400_000;
    if (Date.now() - sentAt > maxAgeMs) {
      return { ok: false, deviceId: report.deviceId, reason: "replayed", detail: `sentAt ${report.sentAt} is older than ${this.config.reportMaxAgeDays} days` };
    }
    // A device clock that jumped ahead would otherwise stamp a snapshot "newer" than every correct one after it
    // (the models writer ignores reports older than what it applied), freezing that device's state.
    if (sentAt - Date.now() > REPORT_MAX_FUTURE_SKEW_MS) {
      return {
        ok: false,
        deviceId: report.deviceId,
        reason: "clock_skew",
        detail: `sentAt ${report.sentAt} is more than ${REPORT_MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server's clock`,
      };
    }
    return { ok: true, report };
  }

  private duplicate(report: TReportV1, log: Logger): IngestOutcome {
    this.metrics.reportsDuplicate.inc();
    log.info({ msgId: report.msgId, deviceId: report.deviceId, kind: report.kind }, "duplicate report ignored");
    return { outcome: "duplicate", msgId: report.msgId, deviceId: report.deviceId };
  }

  /** What follows a committed report: counters, liveness, fleet events and the per-device work handed off. */
  private afterStore(report: TReportV1, stored: Extract<StoreResult, { outcome: "stored" }>, receivedAt: Date, log: Logger): IngestOutcome {
    const ids = { msgId: report.msgId, deviceId: report.deviceId };
    this.metrics.reportsProcessed.inc({ kind: report.kind });
    // A device clock ahead of ours would give a negative latency: count it as 0 rather than drop the sample.
    this.metrics.ingestLatency.observe({ kind: report.kind }, Math.max(0, Date.now() - Date.parse(report.sentAt)) / 1000);
    // per report at debug: at thousands a second the info line per batch (above) is what an operator reads
    log.debug({ ...ids, kind: report.kind, seq: report.seq, stale: stored.stale ?? false }, "report stored");
    this.presence.markSeen(report.deviceId, receivedAt, report.seq);
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
    return { outcome: "stored", kind: report.kind, ...ids };
  }

  private async reject(msg: IncomingMessage, deviceId: string | null, reason: RejectReason, detail: string, log: Logger): Promise<IngestOutcome> {
    log.warn({ reason, detail, deviceId, subject: msg.subject, streamSeq: msg.streamSeq }, "report rejected");
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
