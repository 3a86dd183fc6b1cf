import { Module, type DynamicModule } from "@nestjs/common";
import { APP_GUARD, APP_PIPE } from "@nestjs/core";
import { ZodValidationPipe } from "nestjs-zod";
import { AuthGuard } from "./auth/auth.guard.js";
import { AuthModule } from "./auth/auth.module.js";
import { ThrottlingModule } from "./common/throttling.module.js";
import { CoreModule, type CoreDeps } from "./core.module.js";
import { AuditModule } from "./audit/audit.module.js";
import { OverviewModule } from "./overview/overview.module.js";
import { EnrollmentModule } from "./enrollment/enrollment.module.js";
import { HealthModule } from "./health/health.module.js";
import { EventsModule } from "./events/events.module.js";
import { DevicesModule } from "./devices/devices.module.js";
import { ReportsModule } from "./reports/reports.module.js";
import { RetentionModule } from "./retention/retention.module.js";
import { RuntimeModule } from "./runtime/runtime.module.js";
import { AssignmentsModule } from "./assignments/assignments.module.js";
import { DeviceLabelsModule } from "./device-labels/device-labels.module.js";
import { RolloutsModule } from "./rollouts/rollouts.module.js";
import { CatalogModule } from "./catalog/catalog.module.js";
import { ComplianceModule } from "./compliance/compliance.module.js";
import { DevicePolicyModule } from "./device-policy/device-policy.module.js";

@Module({})
export class AppModule {
  static forRoot(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(deps), ThrottlingModule, AuditModule, AuthModule, EventsModule, HealthModule, EnrollmentModule, DevicesModule, ReportsModule, RuntimeModule, RetentionModule, CatalogModule, AssignmentsModule, DeviceLabelsModule, RolloutsModule, ComplianceModule, DevicePolicyModule, OverviewModule],
      providers: [
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_GUARD, useExisting: AuthGuard },
      ],
    };
  }
}
