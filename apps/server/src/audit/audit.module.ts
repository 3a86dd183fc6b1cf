import { Global, Module } from "@nestjs/common";
import { AuditController } from "./audit.controller.js";
import { AuditLogRepository } from "./audit-log.repository.js";
import { AuditRepository } from "./audit.repository.js";

@Global()
@Module({ controllers: [AuditController], providers: [AuditRepository, AuditLogRepository], exports: [AuditRepository] })
export class AuditModule {}
