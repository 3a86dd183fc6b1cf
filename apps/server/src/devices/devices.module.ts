import { Module } from "@nestjs/common";
import { NatsIdentityModule } from "../nats-identity/nats-identity.module.js";
import { DeviceKeyCache } from "./device-key.cache.js";
import { DeviceKeyRepository } from "./device-key.repository.js";
import { DevicesController } from "./devices.controller.js";
import { DevicesRepository } from "./devices.repository.js";
import { DevicesService } from "./devices.service.js";
import { LivenessRepository } from "./liveness.repository.js";
import { PresenceService } from "./presence.service.js";
import { RevocationBroadcast } from "./revocation-broadcast.js";

@Module({
  imports: [NatsIdentityModule],
  controllers: [DevicesController],
  providers: [DevicesService, DevicesRepository, DeviceKeyRepository, DeviceKeyCache, LivenessRepository, PresenceService, RevocationBroadcast],
  exports: [DeviceKeyCache, PresenceService, DevicesRepository],
})
export class DevicesModule {}
