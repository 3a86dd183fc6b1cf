import { Body, Controller, Get, Header, Inject, Param, Put, Query, StreamableFile } from "@nestjs/common";
import { Roles } from "../common/auth-metadata.js";
import { actingAs } from "../common/request-context.js";
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from "@nestjs/swagger";
import { signComplianceExport } from "@fleet/protocol";
import { SERVER_KEY } from "../common/config.token.js";
import { ApiAdminErrors } from "../common/error-body.dto.js";
import type { ServerKey } from "../common/server-key.js";
import { complianceCsv, compliancePdf, destinationsCsv } from "./compliance-export.js";
import {
  ComplianceDestinationListDto,
  CompliancePolicyDto,
  CompliancePolicyListDto,
  CompliancePolicyParamDto,
  CompliancePolicyUpdateDto,
  ComplianceReportDto,
  ComplianceReportQueryDto,
  ComplianceViolationListDto,
  ComplianceViolationQueryDto,
  SignedComplianceExportDto,
} from "./compliance.dto.js";
import { ComplianceService } from "./compliance.service.js";

const stamp = () => new Date().toISOString().replace(/[:.]/g, "-");

@ApiTags("compliance")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1/compliance")
export class ComplianceController {
  constructor(
    private readonly compliance: ComplianceService,
    @Inject(SERVER_KEY) private readonly serverKey: ServerKey,
  ) {}

  @Get("policies")
  @ApiOkResponse({ type: CompliancePolicyListDto })
  async policies(): Promise<CompliancePolicyListDto> {
    return { items: await this.compliance.policies() };
  }

  @Roles("admin")
  @Put("policies/:id")
  @ApiOperation({ summary: "Edit a policy; every active device is re-evaluated against it in the background" })
  @ApiOkResponse({ type: CompliancePolicyDto })
  updatePolicy(@Param() p: CompliancePolicyParamDto, @Body() body: CompliancePolicyUpdateDto): Promise<CompliancePolicyDto> {
    return this.compliance.updatePolicy(p.id, body, actingAs("admin"));
  }

  @Get("violations")
  @ApiOkResponse({ type: ComplianceViolationListDto, description: "violations with first seen, last seen and resolved time, newest first" })
  async violations(@Query() q: ComplianceViolationQueryDto): Promise<ComplianceViolationListDto> {
    return { items: await this.compliance.violations(q) };
  }

  @Get("report")
  @ApiOkResponse({ type: ComplianceReportDto })
  report(@Query() q: ComplianceReportQueryDto): Promise<ComplianceReportDto> {
    return this.compliance.report(q.deviceIds);
  }

  @Get("report/signed")
  @ApiOperation({ summary: "The report signed with the server key (compact JWS); `fleet-server compliance verify <file>` checks it" })
  @ApiOkResponse({ type: SignedComplianceExportDto })
  @Header("Cache-Control", "no-store")
  async signed(@Query() q: ComplianceReportQueryDto): Promise<StreamableFile> {
    const signed = await signComplianceExport(await this.compliance.report(q.deviceIds), this.serverKey.privateKey);
    return new StreamableFile(Buffer.from(JSON.stringify(signed, null, 2) + "\n"), {
      type: "application/json",
      disposition: `attachment; filename="compliance-${stamp()}.json"`,
    });
  }

  @Get("report.csv")
  @ApiProduces("text/csv")
  @ApiOkResponse({ description: "one row per device and policy, streamed", schema: { type: "string" } })
  async csv(@Query() q: ComplianceReportQueryDto): Promise<StreamableFile> {
    return new StreamableFile(complianceCsv(await this.compliance.report(q.deviceIds)), { type: "text/csv; charset=utf-8", disposition: `attachment; filename="compliance-${stamp()}.csv"` });
  }

  @Get("destinations")
  @ApiOperation({ summary: "Every outbound destination across the fleet: declared endpoints and the devices' outbound ledgers (bytes, devices)" })
  @ApiOkResponse({ type: ComplianceDestinationListDto })
  async destinations(@Query() q: ComplianceReportQueryDto): Promise<ComplianceDestinationListDto> {
    return { items: (await this.compliance.report(q.deviceIds)).destinations };
  }

  @Get("destinations.csv")
  @ApiProduces("text/csv")
  @ApiOkResponse({ description: "one row per outbound destination (declared and/or observed, bytes, device counts), streamed", schema: { type: "string" } })
  async destinationsCsv(@Query() q: ComplianceReportQueryDto): Promise<StreamableFile> {
    return new StreamableFile(destinationsCsv(await this.compliance.report(q.deviceIds)), { type: "text/csv; charset=utf-8", disposition: `attachment; filename="destinations-${stamp()}.csv"` });
  }

  @Get("report.pdf")
  @ApiProduces("application/pdf")
  @ApiOkResponse({ description: "printable report: date, scope, totals, failing devices, destinations", schema: { type: "string", format: "binary" } })
  async pdf(@Query() q: ComplianceReportQueryDto): Promise<StreamableFile> {
    return new StreamableFile(compliancePdf(await this.compliance.report(q.deviceIds)), { type: "application/pdf", disposition: `attachment; filename="compliance-${stamp()}.pdf"` });
  }
}
