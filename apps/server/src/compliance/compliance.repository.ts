import { Inject, Injectable } from "@nestjs/common";
import type { Prisma } from "@fleet/db";
import { ZCompliancePolicyId, ZPostureV1, ZTelemetryMode, type TCompliancePolicyV1, type TPostureV1 } from "@fleet/protocol";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";
import type { DeviceEvidence, EgressEvidence, Finding } from "./evaluate-device.js";

export interface ViolationRow {
  id: string;
  deviceId: string;
  policy: string;
  subject: string;
  detail: string;
  evidence: Record<string, unknown>;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
}

export interface ReportDevice {
  id: string;
  hostname: string;
  state: string;
  posture: TPostureV1 | null;
  postureAt: Date | null;
  /** the destinations its outbound ledger lists (latest counters) */
  egress: EgressEvidence[];
}

const EGRESS_SELECT = { purpose: true, host: true, port: true, address: true, bytesSent: true, bytesReceived: true, connections: true, lastSeenAt: true } as const;
function toEgress(r: { purpose: string; host: string; port: number; address: string; bytesSent: bigint; bytesReceived: bigint; connections: number; lastSeenAt: Date }): EgressEvidence {
  return { ...r, address: r.address || null, bytesSent: Number(r.bytesSent), bytesReceived: Number(r.bytesReceived) };
}

@Injectable()
export class ComplianceRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async policies(): Promise<TCompliancePolicyV1[]> {
    const rows = await this.db.compliancePolicy.findMany();
    // Rows are only written through upsertPolicy (validated); an unknown id would come from a newer server: skip it.
    return rows.flatMap((r) => {
      const id = ZCompliancePolicyId.safeParse(r.id);
      const tel = ZTelemetryMode.safeParse(r.maxTelemetry);
      if (!id.success || !tel.success) return [];
      return [{ id: id.data, enabled: r.enabled, allowlist: r.allowlist, maxTelemetry: tel.data, updatedAt: r.updatedAt.toISOString(), updatedBy: r.updatedBy }];
    });
  }

  async upsertPolicy(p: Omit<TCompliancePolicyV1, "updatedAt" | "updatedBy">, actor: string): Promise<void> {
    const data = { enabled: p.enabled, allowlist: p.allowlist, maxTelemetry: p.maxTelemetry, updatedBy: actor };
    await this.db.$transaction([
      this.db.compliancePolicy.upsert({ where: { id: p.id }, create: { id: p.id, ...data }, update: data }),
      this.db.auditLog.create({ data: { actor, action: "compliance.policy_updated", targetType: "compliance_policy", targetId: p.id, details: data as Prisma.InputJsonValue } }),
    ]);
  }

  /** The latest posture, the installed models and the approved hashes: everything one evaluation needs. */
  async evidence(deviceId: string): Promise<(DeviceEvidence & { state: string }) | null> {
    const device = await this.db.device.findUnique({ where: { id: deviceId }, select: { state: true } });
    if (!device) return null;
    const [posture, models, approved, egress] = await Promise.all([
      this.db.postureReport.findFirst({ where: { deviceId }, orderBy: { receivedAt: "desc" }, select: { data: true, receivedAt: true } }),
      this.db.installedModel.findMany({ where: { deviceId, removedAt: null }, select: { path: true, fileName: true, sha256: true } }),
      this.approvedSha256s(),
      this.db.egressDestination.findMany({ where: { deviceId }, select: EGRESS_SELECT }),
    ]);
    return { state: device.state, posture: parsePosture(posture?.data), postureAt: posture?.receivedAt ?? null, models, approvedSha256s: approved, egress: egress.map(toEgress) };
  }

  /**
   * `evidence` for many devices in a constant number of queries (devices, latest postures, installed models, approved
   * hashes, egress ledgers). Devices that do not exist are absent from the map.
   */
  async evidenceMany(deviceIds: string[]): Promise<Map<string, DeviceEvidence & { state: string }>> {
    const out = new Map<string, DeviceEvidence & { state: string }>();
    if (!deviceIds.length) return out;
    const ids = [...new Set(deviceIds)];
    const devices = await this.db.device.findMany({ where: { id: { in: ids } }, select: { id: true, state: true } });
    if (!devices.length) return out;
    const found = devices.map((d) => d.id);
    const [postures, models, approved, egress] = await Promise.all([
      // One index probe per device on (deviceId, receivedAt DESC): DISTINCT ON would read every posture the devices ever sent.
      this.db.$queryRaw<{ deviceId: string; data: unknown; receivedAt: Date }[]>`
        SELECT d.id AS "deviceId", p.data, p."receivedAt"
        FROM unnest(${found}::text[]) AS d(id)
        CROSS JOIN LATERAL (
          SELECT r.data, r."receivedAt" FROM "PostureReport" r WHERE r."deviceId" = d.id ORDER BY r."receivedAt" DESC LIMIT 1
        ) p`,
      this.db.installedModel.findMany({ where: { deviceId: { in: found }, removedAt: null }, select: { deviceId: true, path: true, fileName: true, sha256: true } }),
      this.approvedSha256s(),
      this.db.egressDestination.findMany({ where: { deviceId: { in: found } }, select: { deviceId: true, ...EGRESS_SELECT } }),
    ]);
    const postureOf = new Map(postures.map((p) => [p.deviceId, p]));
    const modelsOf = groupBy(models, (m) => m.deviceId);
    const egressOf = groupBy(egress, (e) => e.deviceId);
    for (const d of devices) {
      const p = postureOf.get(d.id);
      out.set(d.id, {
        state: d.state,
        posture: parsePosture(typeof p?.data === "string" ? JSON.parse(p.data) : p?.data),
        postureAt: p ? new Date(p.receivedAt) : null,
        models: (modelsOf.get(d.id) ?? []).map(({ path, fileName, sha256 }) => ({ path, fileName, sha256 })),
        approvedSha256s: approved,
        egress: (egressOf.get(d.id) ?? []).map(({ deviceId: _d, ...e }) => toEgress(e)),
      });
    }
    return out;
  }

  async approvedSha256s(): Promise<Set<string>> {
    const rows = await this.db.catalogEntry.findMany({ where: { state: { in: ["approved", "deprecated"] } }, select: { sha256: true } });
    return new Set(rows.map((r) => r.sha256));
  }

  async activeDeviceIds(): Promise<string[]> {
    return (await this.db.device.findMany({ where: { state: "active" }, select: { id: true } })).map((d) => d.id);
  }

  /**
   * Make the device's open violations match `findings` at `at`: new ones open (first seen = at), continuing ones get
   * last seen = at and the current evidence, ones no longer found are resolved. One transaction per device.
   */
  async syncViolations(deviceId: string, findings: Finding[], at: Date): Promise<{ opened: number; resolved: number }> {
    return this.db.$transaction(async (tx) => {
      // Two server instances may evaluate the same device at once: serialise per device so neither opens a duplicate.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`compliance:${deviceId}`}))`;
      const open = await tx.complianceViolation.findMany({ where: { deviceId, resolvedAt: null } });
      const key = (policy: string, subject: string) => `${policy}\u0000${subject}`;
      const openByKey = new Map(open.map((v) => [key(v.policy, v.subject), v]));
      let opened = 0;
      for (const f of findings) {
        const existing = openByKey.get(key(f.policy, f.subject));
        const evidence = f.evidence as Prisma.InputJsonValue;
        if (existing) {
          openByKey.delete(key(f.policy, f.subject));
          await tx.complianceViolation.update({ where: { id: existing.id }, data: { lastSeenAt: at, detail: f.detail, evidence } });
        } else {
          opened++;
          await tx.complianceViolation.create({ data: { deviceId, policy: f.policy, subject: f.subject, detail: f.detail, evidence, firstSeenAt: at, lastSeenAt: at } });
        }
      }
      const gone = [...openByKey.values()].map((v) => v.id);
      if (gone.length) await tx.complianceViolation.updateMany({ where: { id: { in: gone } }, data: { resolvedAt: at } });
      return { opened, resolved: gone.length };
    });
  }

  /**
   * `syncViolations` for many devices in one transaction and a constant number of statements: the same per-device
   * advisory locks (so a single-device and a bulk evaluation exclude each other), taken in key order so two replicas
   * evaluating overlapping sets cannot deadlock; one read of the open violations, one multi-row insert, one update
   * of the continuing ones, one update resolving the gone ones.
   */
  async syncViolationsMany(findingsByDevice: Map<string, Finding[]>, at: Date): Promise<Map<string, { opened: number; resolved: number }>> {
    const out = new Map<string, { opened: number; resolved: number }>();
    const ids = [...findingsByDevice.keys()].sort();
    if (!ids.length) return out;
    return this.db.$transaction(
      async (tx) => {
        // Keys sorted (not ids): lock order then matches whatever set another transaction locks, even on hash collisions.
        await tx.$executeRaw`
          SELECT pg_advisory_xact_lock(k) FROM (
            SELECT DISTINCT hashtext('compliance:' || id) AS k FROM unnest(${ids}::text[]) AS u(id) ORDER BY k
          ) keys`;
        // only the keys: the rows' evidence would be read (and parsed) just to be overwritten
        const open = await tx.complianceViolation.findMany({ where: { deviceId: { in: ids }, resolvedAt: null }, select: { id: true, deviceId: true, policy: true, subject: true } });
        const key = (deviceId: string, policy: string, subject: string) => `${deviceId}\u0000${policy}\u0000${subject}`;
        const openByKey = new Map(open.map((v) => [key(v.deviceId, v.policy, v.subject), v]));
        const creates: Prisma.ComplianceViolationCreateManyInput[] = [];
        const updates: { id: string; detail: string; evidence: Record<string, unknown> }[] = [];
        for (const deviceId of ids) {
          let opened = 0;
          for (const f of findingsByDevice.get(deviceId) ?? []) {
            const k = key(deviceId, f.policy, f.subject);
            const existing = openByKey.get(k);
            if (existing) {
              openByKey.delete(k);
              updates.push({ id: existing.id, detail: f.detail, evidence: f.evidence });
            } else {
              opened++;
              creates.push({ deviceId, policy: f.policy, subject: f.subject, detail: f.detail, evidence: f.evidence as Prisma.InputJsonValue, firstSeenAt: at, lastSeenAt: at });
            }
          }
          out.set(deviceId, { opened, resolved: 0 });
        }
        if (creates.length) await tx.complianceViolation.createMany({ data: creates });
        if (updates.length) {
          // The columns are timestamp(3) holding UTC: the ISO string's zone is dropped by the cast, as Prisma stores it.
          await tx.$executeRaw`
            UPDATE "ComplianceViolation" v SET "lastSeenAt" = ${at.toISOString()}::timestamp(3), detail = u.detail, evidence = u.evidence
            FROM json_to_recordset(${JSON.stringify(updates)}::json) AS u(id text, detail text, evidence jsonb)
            WHERE v.id = u.id`;
        }
        const gone = [...openByKey.values()];
        if (gone.length) await tx.complianceViolation.updateMany({ where: { id: { in: gone.map((v) => v.id) } }, data: { resolvedAt: at } });
        for (const v of gone) {
          const r = out.get(v.deviceId);
          if (r) r.resolved++;
        }
        return out;
      },
      // A chunk of hundreds of devices on a busy machine takes longer than the 5 s default.
      { maxWait: 10_000, timeout: 60_000 },
    );
  }

  async violations(q: { deviceId?: string; policy?: string; state: "open" | "resolved" | "all"; limit: number }): Promise<ViolationRow[]> {
    const rows = await this.db.complianceViolation.findMany({
      where: {
        deviceId: q.deviceId,
        policy: q.policy,
        ...(q.state === "open" ? { resolvedAt: null } : q.state === "resolved" ? { resolvedAt: { not: null } } : {}),
      },
      orderBy: [{ firstSeenAt: "desc" }, { id: "asc" }],
      take: q.limit,
    });
    return rows.map(toRow);
  }

  /** Devices in scope with their latest posture, and their open violations. */
  async reportData(deviceIds: string[] | undefined): Promise<{ devices: ReportDevice[]; open: ViolationRow[] }> {
    const where: Prisma.DeviceWhereInput = deviceIds ? { id: { in: deviceIds } } : { state: "active" };
    const devices = await this.db.device.findMany({
      where,
      orderBy: [{ hostname: "asc" }, { id: "asc" }],
      select: {
        id: true,
        hostname: true,
        state: true,
        postureReports: { orderBy: { receivedAt: "desc" }, take: 1, select: { data: true, receivedAt: true } },
        egressDestinations: { select: EGRESS_SELECT },
      },
    });
    const open = await this.db.complianceViolation.findMany({
      where: { deviceId: { in: devices.map((d) => d.id) }, resolvedAt: null },
      orderBy: [{ policy: "asc" }, { subject: "asc" }],
    });
    return {
      devices: devices.map((d) => ({ id: d.id, hostname: d.hostname, state: d.state, posture: parsePosture(d.postureReports[0]?.data), postureAt: d.postureReports[0]?.receivedAt ?? null, egress: d.egressDestinations.map(toEgress) })),
      open: open.map(toRow),
    };
  }
}

function groupBy<T>(rows: T[], keyOf: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Stored postures passed the schema at ingestion; parse again so a row written by an older server cannot surprise. */
function parsePosture(data: unknown): TPostureV1 | null {
  if (data === undefined || data === null) return null;
  const parsed = ZPostureV1.safeParse(data);
  return parsed.success ? parsed.data : null;
}

function toRow(v: { id: string; deviceId: string; policy: string; subject: string; detail: string; evidence: unknown; firstSeenAt: Date; lastSeenAt: Date; resolvedAt: Date | null }): ViolationRow {
  return { ...v, evidence: (v.evidence ?? {}) as Record<string, unknown> };
}
