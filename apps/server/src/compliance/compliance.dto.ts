import { createZodDto } from "nestjs-zod";
import { z } from "zod";
import {
  ZCompliancePolicyId,
  ZCompliancePolicyListV1,
  ZCompliancePolicyUpdateV1,
  ZCompliancePolicyV1,
  ZComplianceReportQueryV1,
  ZComplianceReportV1,
  ZComplianceViolationListV1,
  ZComplianceViolationQueryV1,
  ZOutboundDestinationV1,
  ZSignedComplianceExportV1,
} from "@fleet/protocol";

export class CompliancePolicyDto extends createZodDto(ZCompliancePolicyV1) {}
export class CompliancePolicyListDto extends createZodDto(ZCompliancePolicyListV1) {}
export class CompliancePolicyUpdateDto extends createZodDto(ZCompliancePolicyUpdateV1) {}
export class CompliancePolicyParamDto extends createZodDto(z.object({ id: ZCompliancePolicyId })) {}
export class ComplianceReportDto extends createZodDto(ZComplianceReportV1) {}
export class ComplianceReportQueryDto extends createZodDto(ZComplianceReportQueryV1) {}
export class ComplianceViolationQueryDto extends createZodDto(ZComplianceViolationQueryV1) {}
export class ComplianceViolationListDto extends createZodDto(ZComplianceViolationListV1) {}
export class SignedComplianceExportDto extends createZodDto(ZSignedComplianceExportV1) {}
export class ComplianceDestinationListDto extends createZodDto(z.object({ items: z.array(ZOutboundDestinationV1) })) {}
