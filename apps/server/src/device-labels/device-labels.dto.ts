import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZDeviceLabelsV1 } from "@fleet/protocol";

export class DeviceLabelsDto extends createZodDto(ZDeviceLabelsV1) {}
export class DeviceLabelsResultDto extends createZodDto(z.object({ id: z.string(), labels: ZDeviceLabelsV1 })) {}
