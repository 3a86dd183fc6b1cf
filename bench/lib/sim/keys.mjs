// Device keys derived from a run seed: device i's Ed25519 private key is the 32-byte seed with i written into its
// first 4 bytes, imported as PKCS#8. No random source is read per key: generateKeyPairSync + JWK export stalled here
// twice in two tries at 50,000 (the process asleep in a futex, using no CPU, once after 10,000 keys, once within the
// first ~1,000; cause not found), while this derivation never did (50,000 in 44 s on one idle-ish core). Deterministic per seed, so a worker and the main thread (rollout updates) derive the same key for device i.
import { createPrivateKey, createPublicKey } from "node:crypto";

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/** Device i's private and public JWK from a 32-byte run seed. */
export function deviceKey(seed, i) {
  const s = Buffer.from(seed);
  s.writeUInt32BE(i, 0);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, s]), format: "der", type: "pkcs8" });
  const privateJwk = key.export({ format: "jwk" });
  return { privateJwk, publicJwk: { kty: "OKP", crv: "Ed25519", x: privateJwk.x } };
}
