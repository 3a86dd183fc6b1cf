import { Inject, Injectable, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import type { TDeviceDetailV1, TDeviceListQueryV1, TDeviceListV1, TInventoryV1 } from "@fleet/protocol";
import { NotFoundError } from "../common/app-error.js";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { FleetEvent, FleetEventBus } from "../events/fleet-events.js";
import { NatsIdentityService } from "../nats-identity/nats-identity.service.js";
import { DeviceKeyCache } from "./device-key.cache.js";
import { onlineCutoff } from "./device-status.js";
import { toDeviceDetail, toDeviceSummary } from "./device.mapper.js";
import { DevicesRepository } from "./devices.repository.js";
import { PresenceService } from "./presence.service.js";
import { RevocationBroadcast } from "./revocation-broadcast.js";

@Injectable()
export class DevicesService implements OnModuleDestroy {
  private readonly log: Logger;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly repo: DevicesRepository,
    private readonly keys: DeviceKeyCache,
    private readonly presence: PresenceService,
    private readonly broadcast: RevocationBroadcast,
    private readonly events: FleetEventBus,
    private readonly natsIdentity: NatsIdentityService,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ context: "DevicesService" });
    // list totals are reused for a few seconds; a device joining or leaving the fleet (here or, relayed, on another
    // instance) makes them count again at once
    this.unsubscribe = events.subscribe((m) => {
      if (m.type === FleetEvent.DeviceEnrolled || m.type === FleetEvent.DeviceRevoked) this.repo.forgetTotals();
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  async list(query: TDeviceListQueryV1): Promise<TDeviceListV1> {
    const now = new Date();
    const { rows, total } = await this.repo.list(query, onlineCutoff(now, this.config.offlineAfterSec));
    return { items: rows.map((d) => toDeviceSummary(d, now, this.config.offlineAfterSec)), total, page: query.page, pageSize: query.pageSize };
  }

  async detail(id: string): Promise<TDeviceDetailV1> {
    const row = await this.repo.findDetail(id);
    if (!row) throw new NotFoundError("device", id);
    return toDeviceDetail(row, new Date(), this.config.offlineAfterSec);
  }

  async inventoryHistory(id: string, limit: number) {
    if (!(await this.repo.exists(id))) throw new NotFoundError("device", id);
    const rows = await this.repo.inventoryHistory(id, limit);
    return { items: rows.map((s) => ({ id: s.id, receivedAt: s.receivedAt.toISOString(), inventory: s.data as TInventoryV1 })) };
  }

  /** Revoked devices' reports are refused from now on (unknown_device), by every instance: drop the cached keys. */
  async revoke(id: string, actor = "admin"): Promise<{ id: string; status: "revoked" }> {
    this.keys.forget(id);
    if (!(await this.repo.revoke(id, actor))) throw new NotFoundError("device", id);
    this.keys.forget(id);
    this.presence.forget(id);
    // Its NATS user too: nats-server drops its connection and refuses it from now on.
    await this.natsIdentity.deviceRevoked(id);
    // Other instances cached the key too; without this they verify its reports until restart.
    await this.broadcast.announce(id);
    this.log.info({ deviceId: id }, "device revoked");
    this.events.publish(FleetEvent.DeviceRevoked, id, {});
    return { id, status: "revoked" };
  }
}
