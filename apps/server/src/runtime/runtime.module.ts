import { Module } from "@nestjs/common";
import { DevicesModule } from "../devices/devices.module.js";
import { RuntimeController } from "./runtime.controller.js";
import { RuntimeRepository } from "./runtime.repository.js";
import { RuntimeService } from "./runtime.service.js";

@Module({ imports: [DevicesModule], controllers: [RuntimeController], providers: [RuntimeRepository, RuntimeService] })
export class RuntimeModule {}
