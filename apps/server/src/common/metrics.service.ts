import { Injectable } from "@nestjs/common";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { REPORT_KINDS } from "@fleet/protocol";

/** Tables the retention service prunes (the `table` label of fleet_retention_deleted_total). */
export const RETENTION_TABLES = [
  "ProcessedMessage",
  "Heartbeat",
  "InventorySnapshot",
  "DeviceEvent",
  "AuditLog",
  "PostureReport",
  "RuntimeMetric",
  "ModelLoad",
  "BenchmarkRun",
  "EgressReport",
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/** Prometheus metrics of one server instance (own registry: several servers share a test process). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly reportsProcessed = new Counter({
    name: "fleet_reports_processed_total",
    help: "Reports stored, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly reportsRejected = new Counter({
    name: "fleet_reports_rejected_total",
    help: "Reports refused (terminated in JetStream), by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly reportsDuplicate = new Counter({
    name: "fleet_reports_duplicate_total",
    help: "Reports whose msgId was already processed (redelivery or replay)",
    registers: [this.registry],
  });
  readonly reportsRetried = new Counter({
    name: "fleet_reports_retried_total",
    help: "Reports handed back to JetStream for redelivery after a processing failure (e.g. database down)",
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: "fleet_retention_deleted_total",
    help: "Rows deleted by the retention service, by table",
    labelNames: ["table"] as const,
    registers: [this.registry],
  });
  readonly devicesOnline = new Gauge({
    name: "fleet_devices_online",
    help: "Active devices seen within OFFLINE_AFTER_SEC",
    registers: [this.registry],
  });

  readonly httpThrottled = new Counter({
    name: "fleet_http_throttled_total",
    help: "REST requests refused with 429 by the per-client rate limits, by limit (api, enroll)",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  readonly enrollmentsRefused = new Counter({
    name: "fleet_enrollments_refused_total",
    help: "Enrollment attempts refused (bad, expired or used token; key already enrolled), by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly ingestLatency = new Histogram({
    name: "fleet_report_ingest_latency_seconds",
    help: "From a report's sentAt (device clock) to its rows stored, by kind; includes queueing on the device and in JetStream",
    labelNames: ["kind"] as const,
    // from sub-second live ingestion to reports that waited out a device's day offline
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
    registers: [this.registry],
  });

  constructor() {
    // process_* and nodejs_* (CPU, RSS, heap, event-loop lag, GC, handles) on this instance's registry.
    collectDefaultMetrics({ register: this.registry });
    // Zero-initialise labelled series so dashboards see them before the first event.
    for (const kind of REPORT_KINDS) {
      this.reportsProcessed.inc({ kind }, 0);
      this.ingestLatency.zero({ kind });
    }
    for (const table of RETENTION_TABLES) this.retentionDeleted.inc({ table }, 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
