/**
 * The catalog's approved model hashes as the agent last synced them (TUF targets metadata). The update module
 * implements it; null = the catalog is not synced yet, so every model is "unknown: catalog not synced".
 */
export interface ApprovedHashes {
  approvedSha256s(): Set<string> | null;
}
