import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { SCHEMA_VERSION, ZAssignmentV1, type TAssignedTargetV1, type TAssignmentV1 } from "@fleet/protocol";
import { LOGGER, SERVER_KEY } from "../common/config.token.js";
import type { ServerKey } from "../common/server-key.js";
import { AssignmentKv } from "./assignment-kv.js";
import { AssignmentsRepository } from "./assignments.repository.js";
import { signAssignments } from "./sign-assignments.js";

const DAY_MS = 86_400_000;
/** How long a device may act on an assignment it could not refresh. */
export const ASSIGNMENT_TTL_MS = 7 * DAY_MS;
/** Assignments expiring sooner than this are re-issued (new version, same content). */
export const RENEW_BEFORE_MS = 2 * DAY_MS;
/** Devices per reserve/sign/publish step of a bulk assignment. */
const PIPELINE_CHUNK = 2500;

export interface AssignInput {
  deviceId: string;
  action: TAssignmentV1["action"];
  desired: TAssignedTargetV1 | null;
  rolloutId: string | null;
  ring: number | null;
  /** added to the sha256 of every revoked catalog entry */
  revokedSha256?: string[];
}

export interface IssuedAssignment {
  deviceId: string;
  version: bigint;
  rolloutId: string | null;
  assignment: TAssignmentV1;
}

/** Runs after the versions are reserved and before any device can read them (e.g. to record them on rollout rows). */
export type BeforePublish = (issued: IssuedAssignment[]) => Promise<void>;

/**
 * Signed per-device assignments: reserve the next version (atomic, only grows), sign with the server key, store the
 * JWS and put it in the KV bucket. Bulk by design: one statement per 2,000 devices, signatures and puts in parallel.
 */
@Injectable()
export class AssignmentsService {
  private readonly log: Logger;

  constructor(
    private readonly repo: AssignmentsRepository,
    private readonly kv: AssignmentKv,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "AssignmentsService" });
  }

  async assign(input: AssignInput, beforePublish?: BeforePublish): Promise<IssuedAssignment | null> {
    return (await this.assignMany([input], beforePublish))[0] ?? null;
  }

  /** Assign many devices at once; revoked devices are left out (they can no longer read the bucket). */
  async assignMany(inputs: AssignInput[], beforePublish?: BeforePublish): Promise<IssuedAssignment[]> {
    if (inputs.length === 0) return [];
    const t0 = performance.now();
    const ms: Record<string, number> = {};
    const lap = (k: string) => (ms[k] = Math.round(performance.now() - t0));
    const active = await this.repo.activeDeviceIds(inputs.map((i) => i.deviceId));
    const wanted = [...new Map(inputs.filter((i) => active.has(i.deviceId)).map((i) => [i.deviceId, i])).values()];
    if (wanted.length === 0) return [];
    const revoked = await this.repo.revokedSha256();
    lap("lookup");
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + ASSIGNMENT_TTL_MS);
    // Chunk by chunk, so devices of the first chunks read and act on theirs while later chunks are still signed.
    const all: IssuedAssignment[] = [];
    const stores: Promise<void>[] = [];
    for (let c = 0; c < wanted.length; c += PIPELINE_CHUNK) {
      const chunk = wanted.slice(c, c + PIPELINE_CHUNK);
      const versions = await this.repo.reserveVersions(
        chunk.map((i) => ({ deviceId: i.deviceId, action: i.action, rolloutId: i.rolloutId, ring: i.ring, targetPath: i.desired?.target ?? null, sha256: i.desired?.sha256 ?? null })),
        issuedAt,
        expiresAt,
      );
      lap("reserve");
      const issued: IssuedAssignment[] = chunk.map((i) => {
        const version = versions.get(i.deviceId);
        if (version === undefined) throw new Error(`no assignment version reserved for ${i.deviceId}`);
        const assignment: TAssignmentV1 = {
          v: SCHEMA_VERSION,
          deviceId: i.deviceId,
          version: Number(version),
          issuedAt: issuedAt.toISOString(),
          expiresAt: expiresAt.toISOString(),
          rolloutId: i.rolloutId,
          ring: i.ring,
          action: i.action,
          desired: i.desired,
          revokedSha256: [...new Set([...(i.revokedSha256 ?? []), ...revoked])].slice(0, 1000),
        };
        return { deviceId: i.deviceId, version, rolloutId: i.rolloutId, assignment };
      });
      const jws = signAssignments(issued.map((x) => x.assignment), this.serverKey.privateKey);
      const signed = issued.map((x, k) => ({ deviceId: x.deviceId, version: x.version, jws: jws[k]! }));
      lap("sign");
      if (beforePublish) await beforePublish(issued);
      lap("beforePublish");
      stores.push(this.repo.storeJws(signed));
      await this.kv.putMany(signed);
      lap("kvPut");
      all.push(...issued);
    }
    await Promise.all(stores);
    lap("storeJws");
    this.log.info({ devices: all.length, action: wanted[0]!.action, rolloutId: wanted[0]!.rolloutId, ms }, "assignments issued");
    return all;
  }

  /** Re-issue (same content, next version) every assignment that would expire within RENEW_BEFORE_MS. */
  async renewExpiring(beforePublish?: BeforePublish, limit = 10_000): Promise<IssuedAssignment[]> {
    const rows = await this.repo.expiringBefore(new Date(Date.now() + RENEW_BEFORE_MS), limit);
    const inputs: AssignInput[] = [];
    for (const r of rows) {
      const a = decodeAssignment(r.jws);
      if (!a) {
        this.log.error({ deviceId: r.deviceId, version: r.version.toString() }, "stored assignment does not decode; not renewed");
        continue;
      }
      inputs.push({ deviceId: a.deviceId, action: a.action, desired: a.desired, rolloutId: a.rolloutId, ring: a.ring, revokedSha256: a.revokedSha256 });
    }
    return this.assignMany(inputs, beforePublish);
  }

  /** The assignment currently stored for a device (as signed), or null. */
  async current(deviceId: string): Promise<{ version: bigint; assignment: TAssignmentV1 | null } | null> {
    const row = await this.repo.get(deviceId);
    return row ? { version: row.version, assignment: decodeAssignment(row.jws) } : null;
  }
}

/** The payload of a JWS this server signed and stored itself (not a verification: the signature is ours). */
function decodeAssignment(jws: string): TAssignmentV1 | null {
  const part = jws.split(".")[1];
  if (!part) return null;
  try {
    const r = ZAssignmentV1.safeParse(JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
