import { Body, Controller, Get, HttpCode, Param, Post, Query } from "@nestjs/common";
import { Roles } from "../common/auth-metadata.js";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiServiceUnavailableResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { RuntimeService } from "./runtime.service.js";
import { BenchmarkListDto, BenchmarkRequestDto, BenchmarkRequestedDto, LimitQueryDto, RuntimeMetricsDto } from "./runtime.dto.js";

@ApiTags("runtime")
@ApiBearerAuth()
@ApiAdminErrors()
@ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
@Controller("api/v1/devices/:id")
export class RuntimeController {
  constructor(private readonly runtime: RuntimeService) {}

  @Get("runtime-metrics")
  @ApiOkResponse({ type: RuntimeMetricsDto })
  metrics(@Param("id") id: string, @Query() q: LimitQueryDto): Promise<RuntimeMetricsDto> {
    return this.runtime.metrics(id, q.limit);
  }

  @Get("benchmarks")
  @ApiOkResponse({ type: BenchmarkListDto })
  benchmarks(@Param("id") id: string, @Query() q: LimitQueryDto): Promise<BenchmarkListDto> {
    return this.runtime.benchmarks(id, q.limit);
  }

  @Roles("operator")
  @Post("benchmarks")
  @HttpCode(202)
  @ApiAcceptedResponse({ type: BenchmarkRequestedDto, description: "a signed benchmark command was published to the device" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the device is revoked" })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: "unavailable: NATS did not accept the command" })
  requestBenchmark(@Param("id") id: string, @Body() body: BenchmarkRequestDto): Promise<BenchmarkRequestedDto> {
    return this.runtime.requestBenchmark(id, body);
  }
}
