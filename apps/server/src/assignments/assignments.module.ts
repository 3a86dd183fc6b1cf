import { Module } from "@nestjs/common";
import { AssignmentKv } from "./assignment-kv.js";
import { AssignmentsRepository } from "./assignments.repository.js";
import { AssignmentsService } from "./assignments.service.js";

@Module({ providers: [AssignmentsRepository, AssignmentsService, AssignmentKv], exports: [AssignmentsService, AssignmentKv] })
export class AssignmentsModule {}
