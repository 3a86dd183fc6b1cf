import { Module } from "@nestjs/common";
import { DeviceLabelsController } from "./device-labels.controller.js";
import { DeviceLabelsRepository } from "./device-labels.repository.js";
import { DeviceLabelsService } from "./device-labels.service.js";

@Module({ controllers: [DeviceLabelsController], providers: [DeviceLabelsRepository, DeviceLabelsService] })
export class DeviceLabelsModule {}
