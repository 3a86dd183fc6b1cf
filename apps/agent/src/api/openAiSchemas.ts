import { z } from "zod";

// The OpenAI request subset the local API accepts. Unknown fields are ignored (clients send many);
// known ones are checked. Not protocol shapes: these belong to the OpenAI wire format.

const ZStop = z.union([z.string(), z.array(z.string()).max(4)]).optional();
const ZCommon = {
  model: z.string().min(1).max(500),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: ZStop,
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: z.literal(1).optional(),
};

const ZContent = z.union([
  z.string(),
  // the array form (text parts only; no images on this runtime)
  z.array(z.object({ type: z.literal("text"), text: z.string() })).transform((parts) => parts.map((p) => p.text).join("")),
]);

export const ZChatCompletionRequest = z.object({
  ...ZCommon,
  messages: z
    .array(z.object({ role: z.enum(["system", "developer", "user", "assistant"]), content: ZContent }))
    .min(1)
    .max(1000),
});
export type ChatCompletionRequest = z.infer<typeof ZChatCompletionRequest>;

export const ZCompletionRequest = z.object({ ...ZCommon, prompt: z.string() });
export type CompletionRequest = z.infer<typeof ZCompletionRequest>;
