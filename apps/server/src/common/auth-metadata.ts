import { SetMetadata } from "@nestjs/common";
import type { TUserRole } from "@fleet/protocol";

export const PUBLIC_ROUTE = "fleet:public";
export const MIN_ROLE = "fleet:min-role";

/** Marks a route that needs no console/admin credentials (enroll, health, metrics, docs, sign-in, device-authenticated TUF). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The least role a route needs (admin > operator > viewer). Without it a GET needs `viewer` and any other method
 * `admin`, so a forgotten mutation is safe; routes.spec.ts fails for a mutation without an explicit @Roles.
 */
export const Roles = (min: TUserRole) => SetMetadata(MIN_ROLE, min);
