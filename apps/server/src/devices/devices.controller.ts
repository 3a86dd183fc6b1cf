import { Controller, Get, HttpCode, Param, Post, Query } from "@nestjs/common";
import { Roles } from "../common/auth-metadata.js";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { DevicesService } from "./devices.service.js";
import { DeviceDetailDto, DeviceListDto, DeviceListQueryDto, DeviceRevokedDto, InventoryHistoryDto, InventoryHistoryQueryDto } from "./devices.dto.js";

@ApiTags("devices")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/devices")
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOkResponse({ type: DeviceListDto })
  list(@Query() query: DeviceListQueryDto): Promise<DeviceListDto> {
    return this.devices.list(query);
  }

  @Get(":id")
  @ApiOkResponse({ type: DeviceDetailDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  detail(@Param("id") id: string): Promise<DeviceDetailDto> {
    return this.devices.detail(id);
  }

  @Get(":id/inventory")
  @ApiOkResponse({ type: InventoryHistoryDto, description: "inventory snapshots, newest first" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  inventory(@Param("id") id: string, @Query() query: InventoryHistoryQueryDto): Promise<InventoryHistoryDto> {
    return this.devices.inventoryHistory(id, query.limit);
  }

  @Roles("admin")
  @Post(":id/revoke")
  @HttpCode(200)
  @ApiOkResponse({ type: DeviceRevokedDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  revoke(@Param("id") id: string): Promise<DeviceRevokedDto> {
    return this.devices.revoke(id);
  }
}
