import { Module } from "@nestjs/common";
import { CompatibilityController } from "./compatibility.controller.js";
import { CompatibilityRepository } from "./compatibility.repository.js";
import { CompatibilityService } from "./compatibility.service.js";

@Module({ controllers: [CompatibilityController], providers: [CompatibilityRepository, CompatibilityService], exports: [CompatibilityService] })
export class CompatibilityModule {}
