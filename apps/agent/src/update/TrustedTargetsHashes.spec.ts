import { createHash } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestIdentity } from "../testing/testState.js";
import { tempDir } from "../testing/tempDir.js";
import { DeviceFetcher } from "./DeviceFetcher.js";
import { openCatalog } from "./openCatalog.js";
import { TufTestRepo } from "./testing/TufTestRepo.js";
import { TrustedTargetsHashes } from "./TrustedTargetsHashes.js";

describe("catalog-approved hashes for provenance", () => {
  let repo: TufTestRepo;
  let serverUrl: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let identity: Awaited<ReturnType<typeof makeTestIdentity>>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    identity = await makeTestIdentity();
    repo = new TufTestRepo(async (id) => (id === identity.state.deviceId ? identity.devicePublicKey : null));
    serverUrl = await repo.listen();
  });
  afterAll(async () => {
    await repo?.close();
    await cleanup?.();
  });

  it("are null before the first sync, then exactly the targets of the verified metadata", async () => {
    const metadataDir = path.join(dir, "tuf");
    const hashes = new TrustedTargetsHashes(metadataDir);
    expect(hashes.approvedSha256s()).toBeNull();

    const a = Buffer.from("model a");
    const b = Buffer.from("model b");
    repo.publish([
      { name: "a-1.gguf", bytes: a, custom: {} },
      { name: "b-1.gguf", bytes: b, custom: {} },
    ]);
    await openCatalog({ metadataDir, serverUrl, trustedRoot: repo.trustedRoot, fetcher: new DeviceFetcher(identity.state) });
    const sha = (x: Buffer) => createHash("sha256").update(x).digest("hex");
    expect(hashes.approvedSha256s()).toEqual(new Set([sha(a), sha(b)]));
    // expired metadata approves nothing
    expect(new TrustedTargetsHashes(metadataDir, () => Date.now() + 400 * 86_400_000).approvedSha256s()).toBeNull();
  });
});
