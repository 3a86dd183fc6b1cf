import { Module } from "@nestjs/common";
import { DevicePolicyKv } from "./device-policy-kv.js";
import { DevicePolicyController } from "./device-policy.controller.js";
import { DevicePolicyRepository } from "./device-policy.repository.js";
import { DevicePolicyService } from "./device-policy.service.js";

@Module({ controllers: [DevicePolicyController], providers: [DevicePolicyRepository, DevicePolicyKv, DevicePolicyService], exports: [DevicePolicyService] })
export class DevicePolicyModule {}
