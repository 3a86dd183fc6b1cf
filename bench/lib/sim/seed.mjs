// A simulated fleet's identities, written straight into PostgreSQL in bulk (json_to_recordset, 5,000 rows a
// statement) instead of enrolling 50,000 devices over REST: one Ed25519 key pair per device (keys.mjs), the
// Device row carrying its public JWK and RFC 7638 thumbprint, as enrollment stores them.
import { createHash } from "node:crypto";
import pg from "pg";

export const deviceId = (n) => `sim-${String(n).padStart(6, "0")}`;
export const hostnameOf = (n) => `ws-sim-${String(n).padStart(6, "0")}`;

const thumbprint = (jwk) => createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest("base64url");

/**
 * Insert one active Device row per key; `progress(done, n)` after every chunk. `seenAgoSec`: each device last seen a
 * random 0..seenAgoSec seconds ago, as a fleet that has been reporting (null: never seen, a fleet not yet online).
 */
export async function seedFleet(url, keys, progress = () => {}, seenAgoSec = null) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let from = 0; from < keys.length; from += 5000) {
      const rows = keys.slice(from, from + 5000).map((k, j) => ({
        id: deviceId(from + j),
        hostname: hostnameOf(from + j),
        jwk: { kty: k.publicJwk.kty, crv: k.publicJwk.crv, x: k.publicJwk.x },
        thumb: thumbprint(k.publicJwk),
      }));
      await client.query(
        `INSERT INTO "Device" (id, hostname, "publicKeyJwk", "publicKeyThumbprint", "agentVersion", "updatedAt")
         SELECT id, hostname, jwk, thumb, '0.1.0', now()
         FROM json_to_recordset($1::json) AS x(id text, hostname text, jwk jsonb, thumb text)`,
        [JSON.stringify(rows)],
      );
      if (seenAgoSec !== null) {
        await client.query(
          `INSERT INTO "DeviceLiveness" ("deviceId", "lastSeenAt")
           SELECT id, now() - random() * $2::float8 * interval '1 second' FROM json_to_recordset($1::json) AS x(id text)`,
          [JSON.stringify(rows.map((r) => ({ id: r.id }))), seenAgoSec],
        );
      }
      // An enrolled device already holds its signed device policy (enrollment issues it). Without this row the fresh
      // server would spend the measured window issuing 50,000 policies one after another (DevicePolicyService's
      // start-up renewal). The simulated devices never read their policy, so the row carries no real signature.
      await client.query(
        `INSERT INTO "DeviceIssuedPolicy" ("deviceId", version, jws, policy, "issuedAt")
         SELECT id, 1, 'seeded-by-bench-not-signed', '{}'::jsonb, now() FROM json_to_recordset($1::json) AS x(id text)`,
        [JSON.stringify(rows.map((r) => ({ id: r.id })))],
      );
      progress(Math.min(keys.length, from + 5000), keys.length);
    }
    await client.query(`ANALYZE "Device"`);
    await client.query(`ANALYZE "DeviceLiveness"`);
    await client.query(`ANALYZE "DeviceIssuedPolicy"`);
  } finally {
    await client.end();
  }
}

/**
 * Keeps a seeded fleet online until the measured window opens, as its reports would: every `everySec` each device's
 * lastSeenAt moves to a random 0..everySec seconds ago (one UPDATE; never backwards). Without it the server's presence
 * sweep marks the fleet offline while the benchmark prepares (signing, consumers: minutes), and the window would
 * measure 50,000 devices coming online at once instead of a fleet reporting steadily. Returns stop(), which waits for
 * an update in progress.
 */
export function keepFleetOnline(db, everySec, onError) {
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(() => db.query(`UPDATE "DeviceLiveness" SET "lastSeenAt" = GREATEST("lastSeenAt", now() - random() * $1::float8 * interval '1 second')`, [everySec]))
      .catch(onError);
  }, everySec * 1000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
