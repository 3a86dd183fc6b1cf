/** Device event kinds the update path reports (ZDeviceEventV1.kind); the one list to search for them. */
export const UpdateEvent = {
  AssignmentRefused: "update.assignment.refused",
  RevokedRemoved: "update.revoked.removed",
  RevokedKept: "update.revoked.kept",
  Collected: "update.collected",
  RollbackFallback: "update.rollback.fallback",
} as const;
export type UpdateEvent = (typeof UpdateEvent)[keyof typeof UpdateEvent];
