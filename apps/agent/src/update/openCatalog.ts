import fs from "node:fs/promises";
import path from "node:path";
import type { TargetFile } from "@tufjs/models";
import { Updater } from "tuf-js";
import { UpdateFailure } from "@fleet/protocol";
import { writeFileAtomic } from "../util/writeFileAtomic.js";
import type { DeviceFetcher } from "./DeviceFetcher.js";
import { mapTufError } from "./mapTufError.js";
import { UpdateError } from "./UpdateError.js";

export interface CatalogOptions {
  /** <home>/tuf: trusted metadata persists here across restarts (rollback protection lives in it) */
  metadataDir: string;
  serverUrl: string;
  /** root.json from enrollment: written once, then the metadata dir's own root (rotated by TUF) is trusted */
  trustedRoot: string | null | undefined;
  fetcher: DeviceFetcher;
}

export interface Catalog {
  /** the target as currently valid targets metadata lists it, or UpdateError not_in_targets */
  target(name: string): Promise<TargetFile>;
  artifactUrl(name: string): string;
}

/** Where an agent keeps its trusted TUF metadata: <home>/tuf. */
export function tufMetadataDir(home: string): string {
  return path.join(home, "tuf");
}

const base = (u: string) => u.replace(/\/+$/, "");

/**
 * A fresh tuf-js Updater, refreshed (root chain, timestamp, snapshot, targets; versions and expiry checked against
 * what this device trusted before). tuf-js allows one refresh per Updater, so every update opens its own.
 */
export async function openCatalog(opts: CatalogOptions): Promise<Catalog> {
  await fs.mkdir(opts.metadataDir, { recursive: true, mode: 0o700 });
  const rootFile = path.join(opts.metadataDir, "root.json");
  const haveRoot = await fs.access(rootFile).then(
    () => true,
    () => false,
  );
  if (!haveRoot) {
    if (!opts.trustedRoot) throw new UpdateError(UpdateFailure.MetadataInvalid, "no trusted catalog root: enroll again against a server with a catalog");
    await writeFileAtomic(rootFile, opts.trustedRoot, { mode: 0o600 });
  }
  const updater = new Updater({
    metadataDir: opts.metadataDir,
    metadataBaseUrl: `${base(opts.serverUrl)}/api/v1/tuf/`,
    targetBaseUrl: `${base(opts.serverUrl)}/api/v1/artifacts/`,
    fetcher: opts.fetcher,
  });
  try {
    await updater.refresh();
  } catch (err) {
    throw mapTufError(err);
  }
  return {
    async target(name) {
      let info: TargetFile | undefined;
      try {
        info = await updater.getTargetInfo(name);
      } catch (err) {
        throw mapTufError(err);
      }
      if (!info) throw new UpdateError(UpdateFailure.NotInTargets, `${name} is not in the catalog's current targets`);
      return info;
    },
    artifactUrl: (name) => `${base(opts.serverUrl)}/api/v1/artifacts/${encodeURIComponent(name)}`,
  };
}
