import { Body, Controller, Param, Put } from "@nestjs/common";
import { Roles } from "../common/auth-metadata.js";
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { DeviceLabelsDto, DeviceLabelsResultDto } from "./device-labels.dto.js";
import { DeviceLabelsService } from "./device-labels.service.js";

@ApiTags("devices")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/devices/:id/labels")
export class DeviceLabelsController {
  constructor(private readonly labels: DeviceLabelsService) {}

  @Roles("operator")
  @Put()
  @ApiOkResponse({ type: DeviceLabelsResultDto, description: "the device's labels, replaced (label `group` = its rollout group)" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  replace(@Param("id") id: string, @Body() body: DeviceLabelsDto): Promise<DeviceLabelsResultDto> {
    return this.labels.replace(id, body);
  }
}
