import { Module } from "@nestjs/common";
import { ApiIndexController } from "./api-index.controller.js";
import { HealthController } from "./health.controller.js";
import { HealthRepository } from "./health.repository.js";
import { HealthService } from "./health.service.js";

@Module({ controllers: [HealthController, ApiIndexController], providers: [HealthService, HealthRepository] })
export class HealthModule {}
