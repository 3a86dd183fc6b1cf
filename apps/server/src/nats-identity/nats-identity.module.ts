import { Module } from "@nestjs/common";
import { NatsIdentityRepository } from "./nats-identity.repository.js";
import { NatsIdentityService } from "./nats-identity.service.js";

@Module({ providers: [NatsIdentityService, NatsIdentityRepository], exports: [NatsIdentityService] })
export class NatsIdentityModule {}
