import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from "@nestjs/common";
import { Roles } from "../../common/auth-metadata.js";
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { ApiAdminErrors, ErrorBodyDto } from "../../common/error-body.dto.js";
import { CatalogQualityRequestDto, CatalogQualityRunDto, CatalogQualityStatusDto, CatalogVariantsDto } from "../catalog.dto.js";
import { CatalogService } from "../catalog.service.js";
import { QualityService } from "./quality.service.js";

const UUID = new ParseUUIDPipe();

@ApiTags("catalog")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/catalog/:id")
export class QualityController {
  constructor(
    private readonly quality: QualityService,
    private readonly catalog: CatalogService,
  ) {}

  @Roles("admin")
  @Post("quality")
  @HttpCode(202)
  @ApiOperation({
    summary:
      "Measure the entry's quality against a reference variant of the same source model (its own id: measure it as the reference): perplexity and top-1 agreement over the harness text, in a child process; follow it with GET .../quality",
  })
  @ApiAcceptedResponse({ type: CatalogQualityRunDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such entry or reference" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: another source model, a revoked or non-reference-grade reference, or a run already going" })
  measure(@Param("id", UUID) id: string, @Body() body: CatalogQualityRequestDto): Promise<CatalogQualityRunDto> {
    return this.quality.start(id, body.referenceEntryId);
  }

  @Get("quality")
  @ApiOperation({ summary: "The recorded quality score (with the gate's verdict) and this server instance's latest run with its progress" })
  @ApiOkResponse({ type: CatalogQualityStatusDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such entry" })
  status(@Param("id", UUID) id: string): Promise<CatalogQualityStatusDto> {
    return this.quality.status(id);
  }

  @Get("variants")
  @ApiOperation({ summary: "Every quantization of the entry's source model (same source repository, architecture, parameter count) with size, speed if benchmarked, and quality" })
  @ApiOkResponse({ type: CatalogVariantsDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such entry" })
  variants(@Param("id", UUID) id: string): Promise<CatalogVariantsDto> {
    return this.catalog.variants(id);
  }
}
