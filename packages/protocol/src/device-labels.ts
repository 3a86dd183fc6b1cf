import { z } from "zod";

// Device labels: free-form admin tags; the label `group` places a device in a group a rollout can target.

export const ZGroupName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "group must be 1-100 of [A-Za-z0-9._-], starting with a letter or digit");

/** PUT /api/v1/devices/:id/labels body and answer: replaces all labels of the device. */
export const ZDeviceLabelsV1 = z
  .object({ group: ZGroupName.optional() })
  .catchall(z.string().max(200))
  .refine((l) => Object.keys(l).length <= 32, "at most 32 labels")
  .refine((l) => Object.keys(l).every((k) => /^[a-z][a-z0-9._-]{0,49}$/.test(k)), "label keys must be 1-50 of [a-z0-9._-], starting with a letter");
export type TDeviceLabelsV1 = z.infer<typeof ZDeviceLabelsV1>;
