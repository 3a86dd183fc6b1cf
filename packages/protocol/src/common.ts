import { z } from "zod";

/** Version carried by every message; bump with a new schema, never change one in place. */
export const SCHEMA_VERSION = 1 as const;

export const ZSha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex characters");
export const ZIsoDate = z.iso.datetime({ offset: true });
export const ZBytes = z.number().int().nonnegative();
export const ZDeviceId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "device id must be 1-64 of [A-Za-z0-9_-]");
