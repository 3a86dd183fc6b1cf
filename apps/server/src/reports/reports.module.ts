import { Module } from "@nestjs/common";
import { CompatibilityModule } from "../compatibility/compatibility.module.js";
import { ComplianceModule } from "../compliance/compliance.module.js";
import { DevicesModule } from "../devices/devices.module.js";
import { ReportConsumer } from "./report.consumer.js";
import { ReportsRepository } from "./reports.repository.js";
import { ReportsService } from "./reports.service.js";
import { SignatureVerifier } from "./signature-verifier.js";

@Module({ imports: [DevicesModule, CompatibilityModule, ComplianceModule], providers: [ReportsRepository, ReportsService, ReportConsumer, SignatureVerifier], exports: [ReportsService] })
export class ReportsModule {}
