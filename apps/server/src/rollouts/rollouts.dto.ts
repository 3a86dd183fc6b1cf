import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZCreateRolloutRequestV1, ZRolloutActionRequestV1, ZRolloutAdoptionV1, ZRolloutDeviceQueryV1, ZRolloutDeviceViewV1, ZRolloutState, ZRolloutV1 } from "@fleet/protocol";

const page = { total: z.number().int().nonnegative(), page: z.number().int().positive(), pageSize: z.number().int().positive() };

export class CreateRolloutDto extends createZodDto(ZCreateRolloutRequestV1) {}
export class RolloutDto extends createZodDto(ZRolloutV1) {}
export class RolloutListQueryDto extends createZodDto(
  z.object({
    page: z.coerce.number().int().positive().default(1),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
    state: ZRolloutState.optional(),
    entryId: z.uuid().optional(),
    group: z.string().max(100).optional(),
  }),
) {}
export class RolloutListDto extends createZodDto(z.object({ items: z.array(ZRolloutV1), ...page })) {}
export class RolloutDeviceQueryDto extends createZodDto(ZRolloutDeviceQueryV1) {}
export class RolloutDeviceDto extends createZodDto(ZRolloutDeviceViewV1) {}
export class RolloutDeviceListDto extends createZodDto(z.object({ items: z.array(ZRolloutDeviceViewV1), ...page })) {}
export class RolloutAdoptionDto extends createZodDto(ZRolloutAdoptionV1) {}
export class RolloutActionDto extends createZodDto(ZRolloutActionRequestV1) {}
