import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import { ZCatalogEntryV1, ZCatalogImportRequestV1, ZCatalogListQueryV1, ZCatalogName, ZCatalogQualityRequestV1, ZCatalogQualityRunV1, ZCatalogQualityStatusV1, ZCatalogTransitionRequestV1, ZCatalogVariantsV1, ZCatalogVersion, ZPageV1 } from "@fleet/protocol";

export class CatalogEntryDto extends createZodDto(ZCatalogEntryV1) {}
export class CatalogListDto extends createZodDto(ZPageV1(ZCatalogEntryV1)) {}
export class CatalogListQueryDto extends createZodDto(ZCatalogListQueryV1) {}
export class CatalogImportDto extends createZodDto(ZCatalogImportRequestV1) {}
export class CatalogTransitionDto extends createZodDto(ZCatalogTransitionRequestV1) {}

/** The import fields of a streamed upload travel in the query string (the body is the GGUF bytes). */
export const ZCatalogUploadQuery = z.object({
  name: ZCatalogName,
  version: ZCatalogVersion,
  sourceRepository: z.string().min(1).max(500),
  sourceRevision: z.string().min(1).max(200),
  conversionMethod: z.string().min(1).max(500),
  license: z.string().min(1).max(500).optional(),
  memoryContextSize: z.coerce.number().int().min(128).max(1_048_576).default(4096),
  minNodeLlamaCpp: z.string().min(1).max(32).optional(),
  minLlamaCppRelease: z.string().min(1).max(32).optional(),
});
export class CatalogUploadQueryDto extends createZodDto(ZCatalogUploadQuery) {}

export class CatalogQualityRequestDto extends createZodDto(ZCatalogQualityRequestV1) {}
export class CatalogQualityRunDto extends createZodDto(ZCatalogQualityRunV1) {}
export class CatalogQualityStatusDto extends createZodDto(ZCatalogQualityStatusV1) {}
export class CatalogVariantsDto extends createZodDto(ZCatalogVariantsV1) {}
