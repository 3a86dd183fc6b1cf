import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { AssignmentsService, type AssignInput } from "../assignments/assignments.service.js";
import { LOGGER } from "../common/config.token.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { RolloutAssigner } from "./rollout-assigner.js";
import { RolloutsRepository } from "./rollouts.repository.js";

/**
 * What a revoked catalog entry means for devices: open rollouts of it are aborted and rolled back, and every device
 * holding the file gets a new assignment listing its sha256 in revokedSha256 (its current assignment otherwise
 * unchanged, or a rollback to its own known-good model when the revoked model was what it was told to serve).
 * The catalog calls onEntryRevoked(entryId) after the entry's state is revoked.
 */
@Injectable()
export class RevokedEntries {
  private readonly log: Logger;

  constructor(
    private readonly repo: RolloutsRepository,
    private readonly assigner: RolloutAssigner,
    private readonly assignments: AssignmentsService,
    private readonly events: FleetEventBus,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "RevokedEntries" });
  }

  async onEntryRevoked(entryId: string, actor = "catalog"): Promise<{ rolloutsAborted: number; devicesNotified: number }> {
    const result = await this.repo.withLock(async () => {
      const entry = await this.repo.entry(entryId);
      if (!entry || entry.state !== "revoked") throw new Error(`catalog entry ${entryId} is not revoked`);
      const reason = `catalog entry ${entry.targetPath} was revoked${entry.stateReason ? `: ${entry.stateReason}` : ""}`;
      let aborted = 0;
      const notified = new Set<string>();
      for (;;) {
        const open = await this.repo.openRolloutOf(entryId);
        if (!open) break;
        await this.repo.update(open.id, { state: "aborted", reason, completedAt: new Date() }, { actor, action: "rollout.abort", targetType: "rollout", targetId: open.id, details: { reason } });
        for (const x of await this.assigner.rollback(open.id, await this.repo.devicesIn(open.id, undefined, ["pending", "downloading", "verifying", "testing", "active", "failed"]))) notified.add(x.deviceId);
        this.events.publish(FleetEvent.RolloutAborted, null, { rolloutId: open.id, state: "aborted", currentRing: 0, reason });
        aborted++;
      }
      const holders = (await this.repo.devicesWithSha256(entry.sha256)).filter((d) => !notified.has(d));
      const inputs: AssignInput[] = [];
      for (const deviceId of holders) {
        const cur = (await this.assignments.current(deviceId))?.assignment;
        const keep = cur && cur.desired?.sha256 !== entry.sha256;
        inputs.push(
          keep
            ? { deviceId, action: cur.action, desired: cur.desired, rolloutId: cur.rolloutId, ring: cur.ring, revokedSha256: [entry.sha256, ...cur.revokedSha256] }
            : { deviceId, action: "rollback", desired: null, rolloutId: cur?.rolloutId ?? null, ring: cur?.ring ?? null, revokedSha256: [entry.sha256] },
        );
      }
      // Versions of rollout rows follow, so the devices' reports about these assignments still count.
      await this.assignments.assignMany(inputs, async (issued) => {
        const byRollout = new Map<string, { deviceId: string; version: bigint }[]>();
        for (const x of issued) if (x.rolloutId) byRollout.set(x.rolloutId, [...(byRollout.get(x.rolloutId) ?? []), x]);
        for (const [rolloutId, xs] of byRollout) await this.repo.markAssigned(rolloutId, xs, null);
      });
      for (const d of holders) notified.add(d);
      return { rolloutsAborted: aborted, devicesNotified: notified.size };
    }, true);
    if (!result.acted) throw new Error("unreachable: waited for the rollout lock");
    this.log.info({ entryId, ...result.value }, "revoked entry pushed to devices");
    return result.value;
  }
}
