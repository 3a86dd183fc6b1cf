import { randomUUID } from "node:crypto";
import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { assignRings } from "@fleet/catalog";
import { ErrorCode, RUNNABLE_CLASSES, type TCreateRolloutRequestV1, type TRolloutDeviceViewV1, type TRolloutV1 } from "@fleet/protocol";
import { AppError, NotFoundError } from "../common/app-error.js";
import { LOGGER } from "../common/config.token.js";
import { FleetEvent, FleetEventBus, type FleetEventType } from "../events/fleet-events.js";
import { ASSIGNED_STATES, RolloutAssigner } from "./rollout-assigner.js";
import { RolloutScheduler } from "./rollout.scheduler.js";
import { adoption, historyOf, ringsOf, toDeviceView, toRolloutView } from "./rollout-views.js";
import { RolloutsRepository, type NewRolloutDevice } from "./rollouts.repository.js";
import type { RolloutAdoptionDto, RolloutDeviceQueryDto, RolloutListQueryDto } from "./rollouts.dto.js";
import { actingAs } from "../common/request-context.js";

export type RolloutAction = "pause" | "resume" | "abort" | "rollback";

/** Rollouts as the admin sees them: create (frozen rings, skipped devices with reasons), views, and actions. */
@Injectable()
export class RolloutsService {
  private readonly log: Logger;

  constructor(
    private readonly repo: RolloutsRepository,
    private readonly assigner: RolloutAssigner,
    private readonly scheduler: RolloutScheduler,
    private readonly events: FleetEventBus,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "RolloutsService" });
  }

  async create(req: TCreateRolloutRequestV1, actorName = "admin"): Promise<TRolloutV1> {
    const actor = actingAs(actorName); // the signed-in user, not "admin", in createdBy, reasons and audit
    const entry = await this.repo.entry(req.entryId);
    if (!entry) throw new NotFoundError("catalog entry", req.entryId);
    if (entry.state !== "approved") {
      throw new AppError(ErrorCode.Conflict, `catalog entry ${entry.targetPath} is ${entry.state}: only an approved entry can be rolled out`, {
        state: entry.state,
        reason: entry.stateReason,
      });
    }
    const open = await this.repo.openRolloutOf(entry.id);
    if (open) throw new AppError(ErrorCode.Conflict, `rollout ${open.id} of ${entry.targetPath} is still open: finish, abort or roll it back first`, { rolloutId: open.id });

    const id = randomUUID();
    const scope = (await this.repo.scopeDevices(req.group)).map((d) => d.id);
    const compat = new Map((await this.repo.compatibility(entry.id)).map((c) => [c.deviceId, c]));
    const skipped: NewRolloutDevice[] = [];
    const targets: string[] = [];
    for (const deviceId of scope) {
      const c = compat.get(deviceId);
      if (c && (RUNNABLE_CLASSES as readonly string[]).includes(c.class)) targets.push(deviceId);
      else {
        const reason = !c ? "compatibility with this entry has not been computed for the device" : `${c.class}${c.reason ? `: ${c.reason}` : ""}`;
        skipped.push({ deviceId, ring: null, state: "skipped", reason, previousTarget: null, previousSha256: null });
      }
    }
    const rings = req.rings;
    const ringOf = assignRings(targets, id, rings);
    const previous = await this.repo.previousServing(targets);
    const waiting: NewRolloutDevice[] = targets.map((deviceId) => ({
      deviceId,
      ring: ringOf.get(deviceId)!,
      state: "waiting",
      reason: null,
      previousTarget: previous.get(deviceId)?.model ?? null,
      previousSha256: previous.get(deviceId)?.sha256 ?? null,
    }));
    await this.repo.create(
      { id, entryId: entry.id, group: req.group, rings, note: req.note ?? null, createdBy: actor },
      [...waiting, ...skipped],
      { actor, action: "rollout.create", targetType: "rollout", targetId: id, details: { entryId: entry.id, targetPath: entry.targetPath, group: req.group, targeted: targets.length, skipped: skipped.length } },
    );
    this.log.info({ rolloutId: id, entry: entry.targetPath, targeted: targets.length, skipped: skipped.length }, "rollout created");
    this.emit(FleetEvent.RolloutCreated, id, "running", 0, null);
    this.scheduler.trigger();
    return this.get(id);
  }

  async list(q: RolloutListQueryDto) {
    const { rows, total } = await this.repo.list(q);
    const counts = await this.repo.counts(rows.map((r) => r.id));
    return { items: rows.map((r) => toRolloutView(r, counts.get(r.id) ?? [])), total, page: q.page, pageSize: q.pageSize };
  }

  async get(id: string): Promise<TRolloutV1> {
    const r = await this.repo.get(id);
    if (!r) throw new NotFoundError("rollout", id);
    return toRolloutView(r, (await this.repo.counts([id])).get(id) ?? []);
  }

  async devices(id: string, q: RolloutDeviceQueryDto): Promise<{ items: TRolloutDeviceViewV1[]; total: number; page: number; pageSize: number }> {
    if (!(await this.repo.get(id))) throw new NotFoundError("rollout", id);
    const { rows, total } = await this.repo.devices(id, q);
    return { items: rows.map(toDeviceView), total, page: q.page, pageSize: q.pageSize };
  }

  async adoption(id: string): Promise<RolloutAdoptionDto> {
    const r = await this.repo.get(id);
    if (!r) throw new NotFoundError("rollout", id);
    const [transitions, timelines] = await Promise.all([this.repo.transitions(id), this.repo.timelines(id)]);
    return adoption(transitions, timelines, r.createdAt, r.completedAt ?? new Date());
  }

  /** pause, resume, abort (stop and roll back) or rollback (the whole rollout); audited; under the scheduler's lock. */
  async act(id: string, action: RolloutAction, reason: string, actorName = "admin"): Promise<TRolloutV1> {
    const actor = actingAs(actorName); // the signed-in user, not "admin", in createdBy, reasons and audit
    await this.repo.withLock(async () => {
      const r = await this.repo.get(id);
      if (!r) throw new NotFoundError("rollout", id);
      const open = r.state === "running" || r.state === "paused";
      const audit = { actor, action: `rollout.${action}`, targetType: "rollout", targetId: id, details: { reason, from: r.state } };
      const refuse = (why: string) => new AppError(ErrorCode.Conflict, `cannot ${action} rollout ${id}: ${why}`, { state: r.state });
      switch (action) {
        case "pause":
          if (r.state !== "running") throw refuse(`it is ${r.state}`);
          await this.repo.update(id, { state: "paused", reason: `paused by ${actor}: ${reason}` }, audit);
          this.emit(FleetEvent.RolloutPaused, id, "paused", r.currentRing, reason);
          break;
        case "resume": {
          if (r.state !== "paused") throw refuse(`it is ${r.state}`);
          const rings = ringsOf(r.rings);
          const hist = historyOf(r.ringHistory, rings.length);
          const h = hist[r.currentRing]!;
          // The ring that failed its gates was rolled back: resuming runs it again from its waiting devices.
          if (h.failedAt) {
            await this.repo.resetToWaiting(id, r.currentRing);
            hist[r.currentRing] = { startedAt: null, soakStartedAt: null, passedAt: null, failedAt: null, excluded: [], gates: [] };
          }
          await this.repo.update(id, { state: "running", reason: null, ringStartedAt: h.failedAt ? null : r.ringStartedAt, ringHistory: hist }, audit);
          this.emit(FleetEvent.RolloutResumed, id, "running", r.currentRing, reason);
          break;
        }
        case "abort":
        case "rollback": {
          if (!open && !(action === "rollback" && r.state === "completed")) throw refuse(`it is ${r.state}`);
          const state = action === "abort" ? "aborted" : "rolled_back";
          await this.repo.update(id, { state, reason: `${action === "abort" ? "aborted" : "rolled back"} by ${actor}: ${reason}`, completedAt: new Date() }, audit);
          const n = await this.assigner.rollbackAssigned(id);
          this.log.info({ rolloutId: id, action, devices: n }, "rollout stopped and rolled back");
          this.emit(action === "abort" ? FleetEvent.RolloutAborted : FleetEvent.RolloutRolledBack, id, state, r.currentRing, reason);
          break;
        }
      }
    }, true);
    this.scheduler.trigger();
    return this.get(id);
  }

  /** Roll one device of the rollout back to its previous model (audited). */
  async rollbackDevice(id: string, deviceId: string, reason: string, actorName = "admin"): Promise<TRolloutDeviceViewV1> {
    const actor = actingAs(actorName); // the signed-in user, not "admin", in createdBy, reasons and audit
    await this.repo.withLock(async () => {
      const row = await this.repo.device(id, deviceId);
      if (!row) throw new NotFoundError("rollout device", `${id}/${deviceId}`);
      if (!ASSIGNED_STATES.includes(row.state)) throw new AppError(ErrorCode.Conflict, `device ${deviceId} is ${row.state} in rollout ${id}: it was never sent the model`, { state: row.state });
      await this.assigner.rollback(id, [row]);
      // A device rolled back by hand is the admin's decision, not an install failure of its ring.
      const r = await this.repo.get(id);
      if (r && row.ring !== null) {
        const hist = historyOf(r.ringHistory, ringsOf(r.rings).length);
        hist[row.ring]!.excluded = [...new Set([...hist[row.ring]!.excluded, deviceId])];
        await this.repo.update(id, { ringHistory: hist });
      }
      await this.repo.recordAudit({ actor, action: "rollout.device.rollback", targetType: "device", targetId: deviceId, details: { rolloutId: id, reason } });
    }, true);
    return toDeviceView((await this.repo.deviceWithHost(id, deviceId))!);
  }

  private emit(type: FleetEventType, rolloutId: string, state: TRolloutV1["state"], currentRing: number, reason: string | null) {
    this.events.publish(type as typeof FleetEvent.RolloutCreated, null, { rolloutId, state, currentRing, reason });
  }
}
