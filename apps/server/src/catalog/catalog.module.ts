import { Module } from "@nestjs/common";
import { CompatibilityModule } from "../compatibility/compatibility.module.js";
import { RolloutsModule } from "../rollouts/rollouts.module.js";
import { TrustModule } from "../trust/trust.module.js";
import { CatalogController } from "./catalog.controller.js";
import { CatalogRepository } from "./catalog.repository.js";
import { CatalogService } from "./catalog.service.js";
import { QualityController } from "./quality/quality.controller.js";
import { QualityRepository } from "./quality/quality.repository.js";
import { QualityService } from "./quality/quality.service.js";

@Module({
  imports: [TrustModule, CompatibilityModule, RolloutsModule],
  controllers: [CatalogController, QualityController],
  providers: [CatalogRepository, CatalogService, QualityRepository, QualityService],
  exports: [CatalogRepository, CatalogService, TrustModule, CompatibilityModule],
})
export class CatalogModule {}
