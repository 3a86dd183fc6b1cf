import { z } from "zod";
import { ZDeviceId, ZEd25519PublicJwk } from "@fleet/protocol";

/** Ed25519 private JWK as jose exports it (d = private scalar). Never leaves state.json. */
export const ZEd25519PrivateJwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

/** What enrollment leaves on disk in <home>/state.json (mode 0600). Local to the agent, not a wire shape. */
export const ZAgentState = z.strictObject({
  v: z.literal(1),
  deviceId: ZDeviceId,
  privateJwk: ZEd25519PrivateJwk,
  publicJwk: ZEd25519PublicJwk,
  serverPublicJwk: ZEd25519PublicJwk,
  subjectPrefix: z.string().min(1),
  /** null = the server said "use your configured one" */
  natsUrl: z.string().nullable(),
  /**
   * This device's own NATS user: the user JWT the server signed for its public nkey, and the nkey seed (created here,
   * never sent). Absent or null = the server's NATS has no per-device identity.
   */
  natsCreds: z.strictObject({ jwt: z.string().min(1).max(10_000), seed: z.string().regex(/^SU[A-Z2-7]{56}$/) }).nullable().optional(),
  serverUrl: z.string().min(1),
  heartbeatIntervalSec: z.number().int().positive(),
  /** bearer token of the local inference API (32 random bytes, base64url) */
  localApiToken: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  enrolledAt: z.string(),
  /** the catalog's trusted TUF root.json from enrollment (null: the server had none; updates then refuse to run) */
  catalogTrustedRoot: z.string().max(1_000_000).nullable().optional(),
  /** JetStream KV bucket holding this device's signed assignment (key = device id) */
  assignmentBucket: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  /** JetStream KV bucket holding this device's signed device policy (key = device id) */
  policyBucket: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
});
export type AgentState = z.infer<typeof ZAgentState>;
