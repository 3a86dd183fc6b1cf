import { Readable } from "node:stream";
import { Controller, Get, Query, StreamableFile } from "@nestjs/common";
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from "@nestjs/swagger";
import { createZodDto } from "nestjs-zod";
import { stringify } from "csv-stringify";
import { AUDIT_CSV_COLUMNS, ZAuditListQueryV1, ZAuditListV1, type TAuditEntryV1, type TAuditListV1 } from "@fleet/protocol";
import { ApiAdminErrors } from "../common/error-body.dto.js";
import { Roles } from "../common/auth-metadata.js";
import { AuditLogRepository } from "./audit-log.repository.js";

class AuditListQueryDto extends createZodDto(ZAuditListQueryV1) {}
class AuditListDto extends createZodDto(ZAuditListV1) {}

/** Rows one CSV export carries at most (newest first); narrow the filter for older ones. */
export const AUDIT_CSV_MAX_ROWS = 100_000;

const toEntry = (r: { id: string; at: Date; actor: string; action: string; targetType: string | null; targetId: string | null; details: unknown }): TAuditEntryV1 => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: r.actor,
  action: r.action,
  targetType: r.targetType,
  targetId: r.targetId,
  details: r.details ?? null,
});

@ApiTags("audit")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1")
export class AuditController {
  constructor(private readonly log: AuditLogRepository) {}

  @Roles("viewer")
  @Get("audit")
  @ApiOkResponse({ type: AuditListDto, description: "audit entries, newest first, filtered by actor (substring), action (exact or prefix ending in '.'), target and time range" })
  async list(@Query() q: AuditListQueryDto): Promise<TAuditListV1> {
    const { page, pageSize, ...filter } = q;
    const { items, total } = await this.log.page(filter, page, pageSize);
    return { items: items.map(toEntry), total, page, pageSize };
  }

  @Roles("viewer")
  @Get("audit.csv")
  @ApiProduces("text/csv")
  @ApiOkResponse({ description: `the filtered audit entries as CSV (newest first, at most ${AUDIT_CSV_MAX_ROWS} rows), streamed; formulas escaped` })
  csv(@Query() q: AuditListQueryDto): StreamableFile {
    const { page: _page, pageSize: _size, ...filter } = q;
    const log = this.log;
    async function* rows() {
      for await (const r of log.stream(filter, AUDIT_CSV_MAX_ROWS)) {
        const e = toEntry(r);
        yield { ...e, details: e.details === null ? "" : JSON.stringify(e.details) };
      }
    }
    const csv = stringify({ header: true, columns: [...AUDIT_CSV_COLUMNS], escape_formulas: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return new StreamableFile(Readable.from(rows()).pipe(csv), { type: "text/csv; charset=utf-8", disposition: `attachment; filename="audit-${stamp}.csv"` });
  }
}
