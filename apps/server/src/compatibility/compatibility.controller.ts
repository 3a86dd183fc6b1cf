import { Controller, Get, Param, ParseUUIDPipe, Query } from "@nestjs/common";
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { CompatibilityService } from "./compatibility.service.js";
import { CompatibilityPageDto, CompatibilityQueryDto, CompatibilitySummaryDto } from "./compatibility.dto.js";

@ApiTags("compatibility")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1")
export class CompatibilityController {
  constructor(private readonly compat: CompatibilityService) {}

  @Get("compatibility")
  @ApiOkResponse({ type: CompatibilityPageDto, description: "device x entry rows (filters: entryId, hardwareClass, group label, class, deviceId)" })
  matrix(@Query() q: CompatibilityQueryDto): Promise<CompatibilityPageDto> {
    return this.compat.matrix(q);
  }

  @Get("catalog/:id/compatibility")
  @ApiOkResponse({ type: CompatibilitySummaryDto, description: "device counts per compatibility class, overall and per hardware class" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such catalog entry" })
  summary(@Param("id", new ParseUUIDPipe()) id: string): Promise<CompatibilitySummaryDto> {
    return this.compat.summary(id);
  }
}
