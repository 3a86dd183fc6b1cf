import "server-only";
import { roleAtLeast, type TUserRole } from "@fleet/protocol";
import { currentSession } from "./api";

// For pages that show mutation buttons: hide or disable what the signed-in role may not do (the server
// refuses it with 403 anyway). Contract 1: viewer read-only; operator rollouts, benchmarks, device actions/labels;
// admin everything (users, catalog approval, policies).

/** The signed-in user's role, or null without a valid session. */
export async function currentRole(): Promise<TUserRole | null> {
  return (await currentSession())?.user.role ?? null;
}

/** Whether the signed-in user has at least `min` (admin > operator > viewer). */
export async function can(min: TUserRole): Promise<boolean> {
  const role = await currentRole();
  return role !== null && roleAtLeast(role, min);
}
