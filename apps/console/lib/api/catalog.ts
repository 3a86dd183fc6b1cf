import "server-only";
import { z } from "zod";
import {
  ZCatalogEntryV1,
  ZCatalogImportRequestV1,
  ZCatalogListQueryV1,
  ZCatalogTransitionRequestV1,
  ZCatalogVariantsV1,
  ZPageV1,
  type TCatalogEntryV1,
  type TCatalogVariantsV1,
} from "@fleet/protocol";
import { call } from "../api";
import { searchString } from "../query";

// Catalog REST client (apps/server/src/catalog): list, detail, variants, import from a server path and the
// state transitions (approve / deprecate / revoke, always with a reason). Every answer is parsed with its schema.

export const ZCatalogListV1 = ZPageV1(ZCatalogEntryV1);
export type TCatalogListV1 = z.infer<typeof ZCatalogListV1>;
export type TCatalogListQuery = z.infer<typeof ZCatalogListQueryV1>;
export type CatalogTransition = "approve" | "deprecate" | "revoke";

const enc = encodeURIComponent;

export function listCatalog(query: Partial<TCatalogListQuery>): Promise<TCatalogListV1> {
  return call(`/api/v1/catalog${searchString(query)}`, ZCatalogListV1);
}

export function getCatalogEntry(id: string): Promise<TCatalogEntryV1> {
  return call(`/api/v1/catalog/${enc(id)}`, ZCatalogEntryV1);
}

export function getCatalogVariants(id: string): Promise<TCatalogVariantsV1> {
  return call(`/api/v1/catalog/${enc(id)}/variants`, ZCatalogVariantsV1);
}

export function importCatalogEntry(request: z.input<typeof ZCatalogImportRequestV1>): Promise<TCatalogEntryV1> {
  return call("/api/v1/catalog/import", ZCatalogEntryV1, { method: "POST", body: ZCatalogImportRequestV1.parse(request) });
}

export function transitionCatalogEntry(id: string, action: CatalogTransition, reason: string): Promise<TCatalogEntryV1> {
  return call(`/api/v1/catalog/${enc(id)}/${action}`, ZCatalogEntryV1, { method: "POST", body: ZCatalogTransitionRequestV1.parse({ reason }) });
}
