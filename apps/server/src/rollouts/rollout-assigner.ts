import { Injectable } from "@nestjs/common";
import type { RolloutDeviceState } from "@fleet/db";
import type { TAssignedTargetV1 } from "@fleet/protocol";
import { AssignmentsService, type IssuedAssignment } from "../assignments/assignments.service.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { RolloutsRepository } from "./rollouts.repository.js";

/** States of a device that was sent the rollout's model (rolling back means something to it). */
export const ASSIGNED_STATES: RolloutDeviceState[] = ["pending", "downloading", "verifying", "testing", "active", "failed"];

interface Row {
  deviceId: string;
  ring: number | null;
  previousTarget: string | null;
  previousSha256: string | null;
}

/** Issues a rollout's assignments: a ring's installs and rollbacks, recording each version on the device's row. */
@Injectable()
export class RolloutAssigner {
  constructor(
    private readonly repo: RolloutsRepository,
    private readonly assignments: AssignmentsService,
    private readonly events: FleetEventBus,
  ) {}

  /**
   * Send the ring's waiting devices the install (`limit`: at most so many, by device id); rows move to pending with the
   * version before any device can read it.
   */
  async installRing(rolloutId: string, ring: number, desired: TAssignedTargetV1, limit?: number): Promise<number> {
    const rows = await this.repo.devicesIn(rolloutId, ring, ["waiting"], limit);
    const issued = await this.assignments.assignMany(
      rows.map((r) => ({ deviceId: r.deviceId, action: "install" as const, desired, rolloutId, ring })),
      (x) => this.repo.markAssigned(rolloutId, x, "pending"),
    );
    for (const x of issued.length <= 200 ? issued : []) this.events.publish(FleetEvent.RolloutDeviceUpdated, x.deviceId, { rolloutId, state: "pending", code: null });
    return issued.length;
  }

  /**
   * Roll devices back: serve their previous model again when it was a catalog target still approved or deprecated
   * (same sha256), else null = the agent's own known-good model.
   */
  async rollback(rolloutId: string, rows: Row[]): Promise<IssuedAssignment[]> {
    if (rows.length === 0) return [];
    const targets = [...new Set(rows.map((r) => r.previousTarget).filter((t): t is string => t !== null))];
    const entries = new Map((await this.repo.entriesByTarget(targets.flatMap((t) => [t, `${t}.gguf`]))).map((e) => [e.targetPath, e]));
    return this.assignments.assignMany(
      rows.map((r) => {
        const e = r.previousTarget ? (entries.get(r.previousTarget) ?? entries.get(`${r.previousTarget}.gguf`)) : undefined;
        const desired = e && (r.previousSha256 === null || r.previousSha256 === e.sha256) ? { target: e.targetPath, sha256: e.sha256, length: Number(e.sizeBytes) } : null;
        return { deviceId: r.deviceId, action: "rollback" as const, desired, rolloutId, ring: r.ring };
      }),
      (x) => this.repo.markAssigned(rolloutId, x, null),
    );
  }

  /** Roll back every device of the rollout (ring undefined) or of one ring that was sent the model. */
  async rollbackAssigned(rolloutId: string, ring?: number): Promise<number> {
    return (await this.rollback(rolloutId, await this.repo.devicesIn(rolloutId, ring, ASSIGNED_STATES))).length;
  }
}
