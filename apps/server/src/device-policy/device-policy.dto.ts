import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZDeviceId, ZDevicePolicySettingsInputV1, ZDevicePolicyViewV1, ZRemoteFallbackConsentInputV1 } from "@fleet/protocol";

export class DevicePolicyViewDto extends createZodDto(ZDevicePolicyViewV1) {}
export class DevicePolicySettingsInputDto extends createZodDto(ZDevicePolicySettingsInputV1) {}
export class RemoteFallbackConsentInputDto extends createZodDto(ZRemoteFallbackConsentInputV1) {}
export class DevicePolicyParamDto extends createZodDto(z.object({ id: ZDeviceId })) {}
