import type { IncomingMessage, ServerResponse } from "node:http";
import { Roles } from "../common/auth-metadata.js";
import { applyDecorators, Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, Req, Res } from "@nestjs/common";
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiConsumes, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiTags } from "@nestjs/swagger";
import { ErrorCode } from "@fleet/protocol";
import { AppError } from "../common/app-error.js";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import { CatalogService, type CatalogAction } from "./catalog.service.js";
import { CatalogEntryDto, CatalogImportDto, CatalogListDto, CatalogListQueryDto, CatalogTransitionDto, CatalogUploadQueryDto } from "./catalog.dto.js";

const UUID = new ParseUUIDPipe();

@ApiTags("catalog")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/catalog")
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiOkResponse({ type: CatalogListDto })
  list(@Query() q: CatalogListQueryDto): Promise<CatalogListDto> {
    return this.catalog.list(q);
  }

  @Get(":id")
  @ApiOkResponse({ type: CatalogEntryDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such entry" })
  get(@Param("id", UUID) id: string): Promise<CatalogEntryDto> {
    return this.catalog.get(id);
  }

  @Roles("admin")
  @Post("import")
  @ApiOperation({ summary: "Import a GGUF file that is on the server (`path`): hashed, stored content-addressed, GGUF facts read; a draft entry" })
  @ApiCreatedResponse({ type: CatalogEntryDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: name + version already in the catalog" })
  importFromPath(@Body() body: CatalogImportDto): Promise<CatalogEntryDto> {
    return this.catalog.importFromPath(body);
  }

  @Roles("admin")
  @Post("upload")
  @HttpCode(201)
  @ApiOperation({ summary: "Same as PUT /api/v1/catalog/upload" })
  @ApiConsumes("application/octet-stream")
  @ApiBody({ schema: { type: "string", format: "binary" } })
  @ApiCreatedResponse({ type: CatalogEntryDto })
  uploadPost(@Query() q: CatalogUploadQueryDto, @Req() req: IncomingMessage, @Res({ passthrough: true }) res: ServerResponse): Promise<CatalogEntryDto> {
    return this.upload(q, req, res);
  }

  @Roles("admin")
  @Put("upload")
  @ApiOperation({ summary: "Upload GGUF bytes (streamed to disk, never buffered); the import fields are query parameters" })
  @ApiConsumes("application/octet-stream")
  @ApiBody({ schema: { type: "string", format: "binary" } })
  @ApiCreatedResponse({ type: CatalogEntryDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: name + version already in the catalog" })
  @ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: "payload_too_large: over FLEET_UPLOAD_MAX_BYTES" })
  @HttpCode(201)
  async upload(@Query() q: CatalogUploadQueryDto, @Req() req: IncomingMessage, @Res({ passthrough: true }) res: ServerResponse): Promise<CatalogEntryDto> {
    try {
      return await this.uploadBody(q, req);
    } catch (err) {
      // The rest of a refused body is never read: close the connection after the answer rather than reuse it.
      res.setHeader("connection", "close");
      throw err;
    }
  }

  private uploadBody(q: CatalogUploadQueryDto, req: IncomingMessage): Promise<CatalogEntryDto> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    // Only octet-stream: a JSON content type would be eaten by the JSON body parser before it got here.
    if (type !== "application/octet-stream") throw new AppError(ErrorCode.ValidationFailed, "upload content-type must be application/octet-stream");
    const len = req.headers["content-length"];
    const declared = typeof len === "string" && /^\d+$/.test(len) ? Number(len) : null;
    return this.catalog.importFromUpload(
      {
        name: q.name,
        version: q.version,
        source: { repository: q.sourceRepository, revision: q.sourceRevision },
        conversion: { method: q.conversionMethod },
        license: q.license,
        memoryContextSize: q.memoryContextSize,
        runtime: { minNodeLlamaCpp: q.minNodeLlamaCpp ?? null, minLlamaCppRelease: q.minLlamaCppRelease ?? null },
      },
      req,
      declared,
    );
  }

  @Roles("admin")
  @Post(":id/approve")
  @HttpCode(200)
  @ApiOperation({ summary: "draft -> approved: becomes a TUF target; compatibility is computed for the fleet" })
  @TransitionResponses()
  approve(@Param("id", UUID) id: string, @Body() body: CatalogTransitionDto): Promise<CatalogEntryDto> {
    return this.transition(id, "approve", body);
  }

  @Roles("admin")
  @Post(":id/deprecate")
  @HttpCode(200)
  @ApiOperation({ summary: "approved -> deprecated: stays a target (installed devices keep it), no new rollouts" })
  @TransitionResponses()
  deprecate(@Param("id", UUID) id: string, @Body() body: CatalogTransitionDto): Promise<CatalogEntryDto> {
    return this.transition(id, "deprecate", body);
  }

  @Roles("admin")
  @Post(":id/revoke")
  @HttpCode(200)
  @ApiOperation({ summary: "draft | approved | deprecated -> revoked: removed from the TUF targets, bytes no longer served" })
  @TransitionResponses()
  revoke(@Param("id", UUID) id: string, @Body() body: CatalogTransitionDto): Promise<CatalogEntryDto> {
    return this.transition(id, "revoke", body);
  }

  private transition(id: string, action: CatalogAction, body: CatalogTransitionDto): Promise<CatalogEntryDto> {
    return this.catalog.transition(id, action, body.reason);
  }
}

function TransitionResponses() {
  return applyDecorators(
    ApiOkResponse({ type: CatalogEntryDto }),
    ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such entry" }),
    ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: the transition is not allowed from the entry's state" }),
  );
}
