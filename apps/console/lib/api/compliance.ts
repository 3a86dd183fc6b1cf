import "server-only";
import { z } from "zod";
import {
  ZComplianceReportV1,
  ZComplianceViolationListV1,
  ZComplianceViolationQueryV1,
  ZOutboundDestinationV1,
  type TComplianceReportV1,
} from "@fleet/protocol";
import { call } from "../api";
import { searchString } from "../query";

// Compliance REST client (apps/server/src/compliance): the fleet report (totals, device x policy results with
// evidence, destinations), the violations history, and the export paths the console's download route proxies.

export const ZDestinationListV1 = z.object({ items: z.array(ZOutboundDestinationV1) });
export type TComplianceViolationListV1 = z.infer<typeof ZComplianceViolationListV1>;

export function getComplianceReport(deviceIds?: string[]): Promise<TComplianceReportV1> {
  return call(`/api/v1/compliance/report${searchString({ deviceIds: deviceIds?.join(",") })}`, ZComplianceReportV1);
}

export function listViolations(query: Partial<z.infer<typeof ZComplianceViolationQueryV1>>): Promise<TComplianceViolationListV1> {
  return call(`/api/v1/compliance/violations${searchString(query)}`, ZComplianceViolationListV1);
}

/** Server path of each download the console offers (the route handler adds the user's session). */
export const COMPLIANCE_EXPORTS = {
  csv: "/api/v1/compliance/report.csv",
  json: "/api/v1/compliance/report/signed",
  pdf: "/api/v1/compliance/report.pdf",
  "destinations-csv": "/api/v1/compliance/destinations.csv",
} as const;
export type ComplianceExportFormat = keyof typeof COMPLIANCE_EXPORTS;
