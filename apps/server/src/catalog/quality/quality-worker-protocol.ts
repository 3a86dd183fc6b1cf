import { z } from "zod";

// Messages between the server and its quality worker (a child process: model evaluation never runs on the event loop).

export const ZQualityJob = z.object({
  candidatePath: z.string().min(1),
  /** null = the candidate is its own reference (one pass, agreement 1) */
  referencePath: z.string().min(1).nullable(),
  textPath: z.string().min(1),
  settings: z.object({ contextSize: z.number().int().min(16), batchSize: z.number().int().min(1), threads: z.number().int().min(1) }),
});
export type TQualityJob = z.infer<typeof ZQualityJob>;

export const ZQualityWorkerMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), phase: z.enum(["reference", "candidate"]), done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  z.object({
    type: z.literal("result"),
    score: z.object({
      perplexity: z.number().positive(),
      top1Agreement: z.number().min(0).max(1),
      referencePerplexity: z.number().positive(),
      scoredTokens: z.number().int().positive(),
      contextSize: z.number().int().positive(),
    }),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type TQualityWorkerMessage = z.infer<typeof ZQualityWorkerMessage>;
