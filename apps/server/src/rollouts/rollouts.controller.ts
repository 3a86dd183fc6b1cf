import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from "@nestjs/common";
import { Roles } from "../common/auth-metadata.js";
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import {
  CreateRolloutDto,
  RolloutActionDto,
  RolloutAdoptionDto,
  RolloutDeviceDto,
  RolloutDeviceListDto,
  RolloutDeviceQueryDto,
  RolloutDto,
  RolloutListDto,
  RolloutListQueryDto,
} from "./rollouts.dto.js";
import { RolloutsService } from "./rollouts.service.js";

const uuid = new ParseUUIDPipe({ version: "4" });

@ApiTags("rollouts")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/rollouts")
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Roles("operator")
  @Post()
  @ApiCreatedResponse({ type: RolloutDto, description: "created; compatible devices get rings, every other device of the scope is skipped with its reason" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such catalog entry" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the entry is not approved (draft, deprecated, revoked), or a rollout of it is still open" })
  create(@Body() body: CreateRolloutDto): Promise<RolloutDto> {
    return this.rollouts.create(body);
  }

  @Get()
  @ApiOkResponse({ type: RolloutListDto })
  list(@Query() q: RolloutListQueryDto): Promise<RolloutListDto> {
    return this.rollouts.list(q);
  }

  @Get(":id")
  @ApiOkResponse({ type: RolloutDto, description: "per-ring progress, gate values against thresholds, the reason of a pause" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such rollout" })
  get(@Param("id", uuid) id: string): Promise<RolloutDto> {
    return this.rollouts.get(id);
  }

  @Get(":id/devices")
  @ApiOkResponse({ type: RolloutDeviceListDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such rollout" })
  devices(@Param("id", uuid) id: string, @Query() q: RolloutDeviceQueryDto): Promise<RolloutDeviceListDto> {
    return this.rollouts.devices(id, q);
  }

  @Get(":id/adoption")
  @ApiOkResponse({ type: RolloutAdoptionDto, description: "devices per state over time, time from pending to active per ring" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such rollout" })
  adoption(@Param("id", uuid) id: string): Promise<RolloutAdoptionDto> {
    return this.rollouts.adoption(id);
  }

  @Roles("operator")
  @Post(":id/pause")
  @HttpCode(200)
  @ApiOkResponse({ type: RolloutDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the rollout is not running" })
  pause(@Param("id", uuid) id: string, @Body() body: RolloutActionDto): Promise<RolloutDto> {
    return this.rollouts.act(id, "pause", body.reason);
  }

  @Roles("operator")
  @Post(":id/resume")
  @HttpCode(200)
  @ApiOkResponse({ type: RolloutDto, description: "running again; a ring that failed its gates is run again" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the rollout is not paused" })
  resume(@Param("id", uuid) id: string, @Body() body: RolloutActionDto): Promise<RolloutDto> {
    return this.rollouts.act(id, "resume", body.reason);
  }

  @Roles("operator")
  @Post(":id/abort")
  @HttpCode(200)
  @ApiOkResponse({ type: RolloutDto, description: "stopped; every device that was sent the model is rolled back" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the rollout is already finished" })
  abort(@Param("id", uuid) id: string, @Body() body: RolloutActionDto): Promise<RolloutDto> {
    return this.rollouts.act(id, "abort", body.reason);
  }

  @Roles("operator")
  @Post(":id/rollback")
  @HttpCode(200)
  @ApiOkResponse({ type: RolloutDto, description: "every device that was sent the model is rolled back (also after completion)" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the rollout was already aborted or rolled back" })
  rollback(@Param("id", uuid) id: string, @Body() body: RolloutActionDto): Promise<RolloutDto> {
    return this.rollouts.act(id, "rollback", body.reason);
  }

  @Roles("operator")
  @Post(":id/devices/:deviceId/rollback")
  @HttpCode(200)
  @ApiOkResponse({ type: RolloutDeviceDto, description: "the device was sent a rollback assignment" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device in this rollout" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the device was never sent the model (skipped or waiting)" })
  rollbackDevice(@Param("id", uuid) id: string, @Param("deviceId") deviceId: string, @Body() body: RolloutActionDto): Promise<RolloutDeviceDto> {
    return this.rollouts.rollbackDevice(id, deviceId, body.reason);
  }
}
