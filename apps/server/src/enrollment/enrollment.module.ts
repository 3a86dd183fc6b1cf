import { Module } from "@nestjs/common";
import { NatsIdentityModule } from "../nats-identity/nats-identity.module.js";
import { TrustModule } from "../trust/trust.module.js";
import { EnrollmentController } from "./enrollment.controller.js";
import { EnrollmentRepository } from "./enrollment.repository.js";
import { EnrollmentService } from "./enrollment.service.js";

@Module({ imports: [NatsIdentityModule, TrustModule], controllers: [EnrollmentController], providers: [EnrollmentService, EnrollmentRepository], exports: [EnrollmentService] })
export class EnrollmentModule {}
