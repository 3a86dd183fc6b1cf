import { Module } from "@nestjs/common";
import { OverviewController } from "./overview.controller.js";
import { OverviewRepository } from "./overview.repository.js";

@Module({ controllers: [OverviewController], providers: [OverviewRepository] })
export class OverviewModule {}
