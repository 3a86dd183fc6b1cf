import { z } from "zod";

// Console sign-in, sessions and roles (issue 12, contract 1). Roles are ordered: admin > operator > viewer.

export const USER_ROLES = ["viewer", "operator", "admin"] as const;
export const ZUserRole = z.enum(USER_ROLES);
export type TUserRole = z.infer<typeof ZUserRole>;

/** true when `role` is at least `min` (admin > operator > viewer). */
export function roleAtLeast(role: TUserRole, min: TUserRole): boolean {
  return USER_ROLES.indexOf(role) >= USER_ROLES.indexOf(min);
}

const ZEmail = z.string().trim().toLowerCase().email().max(254);

export const ZUserV1 = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: ZUserRole,
});
export type TUserV1 = z.infer<typeof ZUserV1>;

/** A user as the users admin sees it. */
export const ZUserDetailV1 = ZUserV1.extend({
  disabled: z.boolean(),
  /** "password" (set up or pending), "oidc" */
  signIn: z.enum(["password", "oidc"]),
  /** false = the setup link was not used yet */
  passwordSet: z.boolean(),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
export type TUserDetailV1 = z.infer<typeof ZUserDetailV1>;

export const ZLoginRequestV1 = z.object({ email: ZEmail, password: z.string().min(1).max(1024) }).strict();
export type TLoginRequestV1 = z.infer<typeof ZLoginRequestV1>;

/** Answer of login, setup and the OIDC callback. */
export const ZAuthSessionV1 = z.object({ token: z.string(), expiresAt: z.string(), user: ZUserV1 });
export type TAuthSessionV1 = z.infer<typeof ZAuthSessionV1>;

export const ZAuthMeV1 = z.object({ user: ZUserV1, expiresAt: z.string().nullable() });
export type TAuthMeV1 = z.infer<typeof ZAuthMeV1>;

/** Passwords: at least 12 characters (NIST 800-63B: length over composition rules). */
export const ZNewPassword = z.string().min(12, "password must be at least 12 characters").max(1024);

export const ZSetupRequestV1 = z.object({ token: z.string().min(16).max(200), password: ZNewPassword }).strict();
export type TSetupRequestV1 = z.infer<typeof ZSetupRequestV1>;

export const ZOidcInfoV1 = z.object({ enabled: z.boolean(), label: z.string() });
export type TOidcInfoV1 = z.infer<typeof ZOidcInfoV1>;

export const ZOidcStartRequestV1 = z.object({ redirectUri: z.string().url().max(2000) }).strict();
export const ZOidcStartV1 = z.object({ authorizationUrl: z.string(), transactionId: z.string() });
export type TOidcStartV1 = z.infer<typeof ZOidcStartV1>;

export const ZOidcCallbackRequestV1 = z.object({ transactionId: z.string().min(1).max(200), callbackUrl: z.string().url().max(8000) }).strict();
export type TOidcCallbackRequestV1 = z.infer<typeof ZOidcCallbackRequestV1>;

export const ZCreateUserRequestV1 = z.object({ email: ZEmail, name: z.string().trim().min(1).max(200).optional(), role: ZUserRole }).strict();
export type TCreateUserRequestV1 = z.infer<typeof ZCreateUserRequestV1>;

export const ZCreatedUserV1 = z.object({ user: ZUserDetailV1, setupUrl: z.string().nullable() });
export type TCreatedUserV1 = z.infer<typeof ZCreatedUserV1>;

export const ZUpdateUserRequestV1 = z
  .object({ role: ZUserRole.optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((u) => u.role !== undefined || u.disabled !== undefined, "give role and/or disabled");
export type TUpdateUserRequestV1 = z.infer<typeof ZUpdateUserRequestV1>;

export const ZUserListV1 = z.object({ items: z.array(ZUserDetailV1) });
export type TUserListV1 = z.infer<typeof ZUserListV1>;
