import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZBenchmarkListV1, ZBenchmarkRequestedV1, ZBenchmarkRequestV1, ZRuntimeMetricsViewV1 } from "@fleet/protocol";

export class RuntimeMetricsDto extends createZodDto(ZRuntimeMetricsViewV1) {}
export class BenchmarkListDto extends createZodDto(ZBenchmarkListV1) {}
export class BenchmarkRequestDto extends createZodDto(ZBenchmarkRequestV1) {}
export class BenchmarkRequestedDto extends createZodDto(ZBenchmarkRequestedV1) {}
export class LimitQueryDto extends createZodDto(z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) })) {}
