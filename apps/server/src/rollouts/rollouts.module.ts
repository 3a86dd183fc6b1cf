import { Module } from "@nestjs/common";
import { AssignmentsModule } from "../assignments/assignments.module.js";
import { CompatibilityModule } from "../compatibility/compatibility.module.js";
import { EventsModule } from "../events/events.module.js";
import { RolloutAssigner } from "./rollout-assigner.js";
import { RolloutScheduler } from "./rollout.scheduler.js";
import { RolloutsController } from "./rollouts.controller.js";
import { RolloutsRepository } from "./rollouts.repository.js";
import { RolloutsService } from "./rollouts.service.js";
import { RevokedEntries } from "./revoked-entries.js";

@Module({
  imports: [AssignmentsModule, CompatibilityModule, EventsModule],
  controllers: [RolloutsController],
  providers: [RolloutsRepository, RolloutsService, RolloutAssigner, RolloutScheduler, RevokedEntries],
  exports: [RolloutsService, RevokedEntries, RolloutScheduler],
})
export class RolloutsModule {}
