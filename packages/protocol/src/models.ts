import { z } from "zod";
import { ZBytes, ZSha256Hex } from "./common.js";

/** What the GGUF header says about a model; fields absent from the file are null. */
export const ZGgufMetadataV1 = z.object({
  ggufVersion: z.number().int().nullable(),
  name: z.string().max(500).nullable(),
  architecture: z.string().max(100).nullable(),
  /** llama.cpp `general.file_type` as a name, e.g. "MOSTLY_Q4_K_M" */
  fileType: z.string().max(100).nullable(),
  /** short quantization label, e.g. "Q4_K_M", "F16" */
  quantization: z.string().max(50).nullable(),
  parameterCount: z.number().nonnegative().nullable(),
  contextLength: z.number().int().nonnegative().nullable(),
  blockCount: z.number().int().nonnegative().nullable(),
  embeddingLength: z.number().int().nonnegative().nullable(),
  headCount: z.number().int().nonnegative().nullable(),
  headCountKv: z.number().int().nonnegative().nullable(),
  tokenizer: z.string().max(100).nullable(),
  vocabSize: z.number().int().nonnegative().nullable(),
  license: z.string().max(500).nullable(),
});
export type TGgufMetadataV1 = z.infer<typeof ZGgufMetadataV1>;

export const ZInstalledModelV1 = z.object({
  path: z.string().min(1).max(4096),
  fileName: z.string().min(1).max(1024),
  sizeBytes: ZBytes,
  mtimeMs: z.number().nonnegative(),
  sha256: ZSha256Hex,
  /** null when the header could not be read; `error` says why */
  gguf: ZGgufMetadataV1.nullable(),
  error: z.string().max(2000).nullable(),
});
export type TInstalledModelV1 = z.infer<typeof ZInstalledModelV1>;

/** A model file the agent lists but cannot read (permissions, I/O error): it is still there, so it is not "removed". */
export const ZUnreadableModelV1 = z.object({
  path: z.string().min(1).max(4096),
  fileName: z.string().min(1).max(1024),
  error: z.string().max(2000),
});
export type TUnreadableModelV1 = z.infer<typeof ZUnreadableModelV1>;

export const ZModelsReportV1 = z.object({
  modelsDir: z.string().max(4096),
  models: z.array(ZInstalledModelV1).max(1000),
  /** files found but not hashable this scan; absent from older agents. The server keeps their last known entry. */
  unreadable: z.array(ZUnreadableModelV1).max(1000).optional(),
});
export type TModelsReportV1 = z.infer<typeof ZModelsReportV1>;
