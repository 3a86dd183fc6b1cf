/** One aggregated audit row per refusal reason and target covers this many seconds (see AuditRepository.countInBucket). */
export const REFUSAL_AUDIT_BUCKET_SEC = 3600;
