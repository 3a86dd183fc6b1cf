import { UpdateFailure } from "@fleet/protocol";
import { BadVersionError, DownloadError, DownloadHTTPError, DownloadLengthMismatchError, ExpiredMetadataError, RuntimeError as TufRuntimeError } from "tuf-js/dist/error.js";
import { LengthOrHashMismatchError, UnsignedMetadataError } from "@tufjs/models/dist/error.js";
import { UpdateError } from "./UpdateError.js";

/**
 * tuf-js errors -> our failure codes. tuf-js sets no `name` and no `cause`, so classes decide, and the message
 * says more (an older targets listed by a new snapshot is a RuntimeError whose message names the version).
 */
export function mapTufError(err: unknown): UpdateError {
  if (err instanceof UpdateError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const why = (code: UpdateFailure, what: string) => new UpdateError(code, `${what}: ${msg}`.slice(0, 2000), { cause: err });
  if (err instanceof ExpiredMetadataError) return why(UpdateFailure.MetadataExpired, "catalog metadata expired");
  if (err instanceof BadVersionError) return why(UpdateFailure.MetadataRollback, "catalog metadata is older than what this device trusts");
  if (err instanceof LengthOrHashMismatchError || err instanceof DownloadLengthMismatchError) return why(UpdateFailure.MetadataInvalid, "catalog metadata does not match its hashes");
  if (err instanceof UnsignedMetadataError) return why(UpdateFailure.MetadataInvalid, "catalog metadata is not signed by a trusted key");
  if (err instanceof TufRuntimeError) {
    if (/version|rollback/i.test(msg)) return why(UpdateFailure.MetadataRollback, "catalog metadata rolled back");
    return why(UpdateFailure.MetadataInvalid, "catalog metadata refused");
  }
  if (err instanceof DownloadHTTPError) return why(UpdateFailure.DownloadFailed, `catalog server answered HTTP ${err.statusCode}`);
  if (err instanceof DownloadError) return why(UpdateFailure.DownloadFailed, "catalog metadata download failed");
  return why(UpdateFailure.MetadataInvalid, "catalog metadata check failed");
}
