import "server-only";
import type { z } from "zod";
import { ZCompatibilityQueryV1, ZCompatibilitySummaryV1, ZCompatibilityV1, ZPageV1, type TCompatibilitySummaryV1 } from "@fleet/protocol";
import { call } from "../api";
import { searchString } from "../query";

// Compatibility REST client (apps/server/src/compatibility).

export const ZCompatibilityListV1 = ZPageV1(ZCompatibilityV1);
export { ZCompatibilityQueryV1 };

export function getCompatibilitySummary(entryId: string): Promise<TCompatibilitySummaryV1> {
  return call(`/api/v1/catalog/${encodeURIComponent(entryId)}/compatibility`, ZCompatibilitySummaryV1);
}

export function listCompatibility(query: Partial<z.infer<typeof ZCompatibilityQueryV1>>): Promise<z.infer<typeof ZCompatibilityListV1>> {
  return call(`/api/v1/compatibility${searchString(query)}`, ZCompatibilityListV1);
}
