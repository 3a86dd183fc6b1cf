import { Module } from "@nestjs/common";
import { DevicesModule } from "../devices/devices.module.js";
import { DeviceRequestAuth } from "./device-request-auth.js";
import { TufController } from "./tuf.controller.js";
import { TufRepository } from "./tuf.repository.js";
import { TufRepositoryService } from "./tuf-repository.service.js";

@Module({
  imports: [DevicesModule],
  controllers: [TufController],
  providers: [TufRepository, TufRepositoryService, DeviceRequestAuth],
  exports: [TufRepositoryService],
})
export class TrustModule {}
