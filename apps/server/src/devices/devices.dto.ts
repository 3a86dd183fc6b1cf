import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZDeviceDetailV1, ZDeviceListQueryV1, ZDeviceListV1, ZInventorySnapshotViewV1 } from "@fleet/protocol";

export class DeviceListQueryDto extends createZodDto(ZDeviceListQueryV1) {}
export class DeviceListDto extends createZodDto(ZDeviceListV1) {}
export class DeviceDetailDto extends createZodDto(ZDeviceDetailV1) {}
export class InventoryHistoryQueryDto extends createZodDto(z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) })) {}
export class InventoryHistoryDto extends createZodDto(z.object({ items: z.array(ZInventorySnapshotViewV1) })) {}
export class DeviceRevokedDto extends createZodDto(z.object({ id: z.string(), status: z.literal("revoked") })) {}
