import { createZodDto } from "nestjs-zod";
import { ZCompatibilityQueryV1, ZCompatibilitySummaryV1, ZCompatibilityV1, ZPageV1 } from "@fleet/protocol";

export class CompatibilityQueryDto extends createZodDto(ZCompatibilityQueryV1) {}
export class CompatibilityPageDto extends createZodDto(ZPageV1(ZCompatibilityV1)) {}
export class CompatibilitySummaryDto extends createZodDto(ZCompatibilitySummaryV1) {}
