// The admin-token-only guard was replaced by auth/auth.guard.ts (sessions + roles); kept so older imports still resolve.
export { Public } from "./auth-metadata.js";
