import { Inject, Injectable, type OnApplicationShutdown } from "@nestjs/common";
import type { Logger } from "pino";
import {
  CompliancePolicyIds,
  type CompliancePolicyId,
  type PolicyStatus,
  type TCompliancePolicyUpdateV1,
  type TCompliancePolicyV1,
  type TComplianceReportV1,
  type TComplianceViolationV1,
  type TDeviceComplianceV1,
  type TOutboundDestinationV1,
} from "@fleet/protocol";
import { AppError } from "../common/app-error.js";
import { DebouncedDeviceQueue } from "../common/debounced-device-queue.js";
import { LOGGER } from "../common/config.token.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { ComplianceRepository, type ReportDevice, type ViolationRow } from "./compliance.repository.js";
import { destinationOf } from "./destination.js";
import { evaluateDevice, leavesMachine, POSTURE_POLICIES } from "./evaluate-device.js";
import { defaultPolicy, withDefaults } from "./policy-defaults.js";

/** Reports arriving within this window are evaluated together (a posture and a models report usually come in pairs). */
const DEBOUNCE_MS = 250;
/** Devices evaluated per bulk read and per violations transaction: bounds its advisory locks (PostgreSQL shares ~6,400 lock slots by default) and duration. */
const CHUNK = 200;

/**
 * Evaluates devices against the compliance policies and keeps their violations (first seen, last seen, resolved).
 * Ingestion only enqueues a device id; evaluation runs after, off the ingestion path, for the debounced devices in bulk
 * (a constant number of queries per chunk instead of about ten per device: a reconnect storm re-sends every snapshot).
 */
@Injectable()
export class ComplianceService implements OnApplicationShutdown {
  private readonly log: Logger;
  private readonly queue: DebouncedDeviceQueue;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly repo: ComplianceRepository,
    @Inject(LOGGER) rootLog: Logger,
    bus: FleetEventBus,
  ) {
    this.log = rootLog.child({ context: "ComplianceService" });
    this.queue = new DebouncedDeviceQueue(
      DEBOUNCE_MS,
      (ids) => this.evaluateInChunks(ids),
      (err) => this.log.error({ err }, "compliance evaluation failed"),
    );
    // A new outbound ledger is evidence for the allowlist policy (posture and models reports are scheduled by ingestion).
    this.unsubscribe = bus.subscribe((m) => {
      if (m.type === FleetEvent.DeviceReported && m.deviceId && m.data.kind === "egress") this.scheduleDevice(m.deviceId);
    });
  }

  onApplicationShutdown(): Promise<void> {
    this.unsubscribe();
    return this.queue.close();
  }

  /** Called after a posture or models report is stored: cheap, never blocks ingestion. */
  scheduleDevice(deviceId: string): void {
    this.queue.schedule(deviceId);
  }

  /** Wait for queued evaluations (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Evaluate one device now and store the outcome as violations. */
  async evaluate(deviceId: string, at = new Date()): Promise<{ opened: number; resolved: number } | null> {
    const ev = await this.repo.evidence(deviceId);
    if (!ev || ev.state !== "active") return null;
    const findings = evaluateDevice(withDefaults(await this.repo.policies()), ev);
    const r = await this.repo.syncViolations(deviceId, findings, at);
    if (r.opened || r.resolved) this.log.info({ deviceId, ...r, open: findings.length }, "compliance violations changed");
    return r;
  }

  /**
   * Evaluate many devices at `at` with the same outcome as `evaluate` on each: absent and non-active devices are skipped
   * (absent from the result). Throws if any read or the violations transaction fails (nothing of the chunk is stored).
   */
  async evaluateMany(deviceIds: string[], at = new Date()): Promise<Map<string, { opened: number; resolved: number }>> {
    const evidence = await this.repo.evidenceMany(deviceIds);
    const active = [...evidence].filter(([, ev]) => ev.state === "active");
    if (!active.length) return new Map();
    const policies = withDefaults(await this.repo.policies());
    const findings = new Map(active.map(([id, ev]) => [id, evaluateDevice(policies, ev)]));
    const results = await this.repo.syncViolationsMany(findings, at);
    for (const [deviceId, r] of results) {
      if (r.opened || r.resolved) this.log.info({ deviceId, ...r, open: findings.get(deviceId)?.length ?? 0 }, "compliance violations changed");
    }
    return results;
  }

  /** The queue's handler: bulk per chunk; a chunk that fails is retried one device at a time so one bad device does not hold back the rest. */
  private async evaluateInChunks(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      if (this.queue.isClosed) return;
      const chunk = ids.slice(i, i + CHUNK);
      try {
        await this.evaluateMany(chunk);
      } catch (err) {
        this.log.error({ err, devices: chunk.length }, "bulk compliance evaluation failed: evaluating its devices one at a time");
        for (const id of chunk) {
          if (this.queue.isClosed) return;
          // One device failing (e.g. deleted meanwhile) must not stop the others.
          await this.evaluate(id).catch((e: unknown) => this.log.error({ err: e, deviceId: id }, "compliance evaluation of a device failed"));
        }
      }
    }
  }

  async policies(): Promise<TCompliancePolicyV1[]> {
    return withDefaults(await this.repo.policies());
  }

  /** Change one policy and re-evaluate the fleet against it (in the background). */
  async updatePolicy(id: CompliancePolicyId, update: TCompliancePolicyUpdateV1, actor: string): Promise<TCompliancePolicyV1> {
    if ((update.allowlist !== undefined && id !== "outbound_allowlist") || (update.maxTelemetry !== undefined && id !== "telemetry_max")) {
      throw new AppError("validation_failed", `policy ${id} takes no ${update.allowlist !== undefined ? "allowlist" : "maxTelemetry"}`);
    }
    const current = (await this.policies()).find((p) => p.id === id) ?? defaultPolicy(id);
    await this.repo.upsertPolicy({ id, enabled: update.enabled ?? current.enabled, allowlist: update.allowlist ?? current.allowlist, maxTelemetry: update.maxTelemetry ?? current.maxTelemetry }, actor);
    for (const d of await this.repo.activeDeviceIds()) this.scheduleDevice(d);
    const updated = (await this.policies()).find((p) => p.id === id);
    if (!updated) throw new Error(`policy ${id} vanished after its update`);
    return updated;
  }

  async violations(q: { deviceId?: string; policy?: CompliancePolicyId; state: "open" | "resolved" | "all"; limit: number }): Promise<TComplianceViolationV1[]> {
    return (await this.repo.violations(q)).map(toViolation);
  }

  /**
   * The fleet report from the stored violations: per device and policy pass/fail with the evidence, totals, and
   * every outbound destination the devices declare (bytes come with the outbound ledger, not yet).
   */
  async report(deviceIds?: string[]): Promise<TComplianceReportV1> {
    const [policies, data] = await Promise.all([this.policies(), this.repo.reportData(deviceIds)]);
    const openBy = new Map<string, ViolationRow[]>();
    for (const v of data.open) {
      const k = `${v.deviceId}\u0000${v.policy}`;
      openBy.set(k, [...(openBy.get(k) ?? []), v]);
    }
    const enabled = new Map(policies.map((p) => [p.id, p.enabled]));
    const devices: TDeviceComplianceV1[] = data.devices.map((d) => {
      const results = CompliancePolicyIds.map((policy) => {
        const open = openBy.get(`${d.id}\u0000${policy}`) ?? [];
        let status: PolicyStatus;
        if (!enabled.get(policy)) status = "disabled";
        else if (open.length) status = "fail";
        else if (!d.posture && POSTURE_POLICIES.includes(policy)) status = "no_data";
        else status = "pass";
        const findings = status === "fail" ? open.map((v) => ({ subject: v.subject, detail: v.detail, evidence: v.evidence, firstSeenAt: v.firstSeenAt.toISOString(), lastSeenAt: v.lastSeenAt.toISOString() })) : [];
        return { policy, status, findings };
      });
      const status = results.some((r) => r.status === "fail") ? "fail" : d.posture ? "pass" : "no_data";
      return { deviceId: d.id, hostname: d.hostname, status, lastPostureAt: d.postureAt?.toISOString() ?? null, results };
    });
    const destinations = fleetDestinations(data.devices);
    return {
      format: "fleet-compliance-report/v1",
      generatedAt: new Date().toISOString(),
      scope: { devices: deviceIds ? "selected" : "all", deviceIds: devices.map((d) => d.deviceId), includesRevoked: data.devices.some((d) => d.state !== "active") },
      policies,
      totals: {
        devices: devices.length,
        passing: devices.filter((d) => d.status === "pass").length,
        failing: devices.filter((d) => d.status === "fail").length,
        noData: devices.filter((d) => d.status === "no_data").length,
        openViolations: data.open.length,
        byPolicy: CompliancePolicyIds.map((policy) => {
          const statuses = devices.map((d) => d.results.find((r) => r.policy === policy)?.status);
          const n = (s: PolicyStatus) => statuses.filter((x) => x === s).length;
          return { policy, pass: n("pass"), fail: n("fail"), noData: n("no_data"), disabled: n("disabled") };
        }),
      },
      devices,
      destinations,
    };
  }
}

function toViolation(v: ViolationRow): TComplianceViolationV1 {
  return {
    id: v.id,
    deviceId: v.deviceId,
    policy: v.policy as CompliancePolicyId,
    subject: v.subject,
    detail: v.detail,
    evidence: v.evidence,
    firstSeenAt: v.firstSeenAt.toISOString(),
    lastSeenAt: v.lastSeenAt.toISOString(),
    resolvedAt: v.resolvedAt?.toISOString() ?? null,
  };
}

/**
 * Every outbound destination across the fleet: what the devices declare (posture) and what their sockets really
 * used (outbound ledgers: bytes, addresses). A destination only observed was never declared: the report says so.
 */
export function fleetDestinations(devices: ReportDevice[]): TOutboundDestinationV1[] {
  type Acc = { purposes: Set<string>; devices: Set<string>; observed: Set<string>; declared: boolean; sent: number; received: number; addresses: Set<string> };
  const dest = new Map<string, Acc>();
  const at = (key: string): Acc => {
    let a = dest.get(key);
    if (!a) dest.set(key, (a = { purposes: new Set(), devices: new Set(), observed: new Set(), declared: false, sent: 0, received: 0, addresses: new Set() }));
    return a;
  };
  for (const d of devices) {
    for (const e of d.posture?.outbound ?? []) {
      const a = at(destinationOf(e.url));
      a.purposes.add(e.purpose);
      a.devices.add(d.id);
      a.declared = true;
    }
    for (const e of d.egress.filter(leavesMachine)) {
      const a = at(e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);
      a.purposes.add(e.purpose);
      a.devices.add(d.id);
      a.observed.add(d.id);
      a.sent += e.bytesSent;
      a.received += e.bytesReceived;
      if (e.address) a.addresses.add(e.address);
    }
  }
  return [...dest.entries()]
    .map(([destination, a]) => {
      const seen = a.observed.size > 0;
      return {
        destination,
        purposes: [...a.purposes].sort(),
        deviceCount: a.devices.size,
        bytes: seen ? a.sent + a.received : null,
        source: seen ? (a.declared ? ("both" as const) : ("observed" as const)) : ("declared" as const),
        bytesSent: seen ? a.sent : null,
        bytesReceived: seen ? a.received : null,
        observedDeviceCount: a.observed.size,
        addresses: [...a.addresses].sort(),
      };
    })
    .sort((a, b) => b.deviceCount - a.deviceCount || (b.bytes ?? -1) - (a.bytes ?? -1) || a.destination.localeCompare(b.destination));
}
