// Bulk-seed a fleet straight into PostgreSQL (generate_series INSERT ... SELECT, in chunks): devices with a mix of
// states and last-seen times, one or two inventory snapshots each (GPUs on most), two or three installed models.
// Far faster than enrolling through the API; the shapes match what ingest writes for the columns the list reads
// (Device.gpuVendors = the latest snapshot's GPU vendor, as the inventory writer keeps it). The one seeder of
// `pnpm bench console` and `pnpm bench hot-queries`; the latter passes `inventory` (a valid inventory report, given
// each snapshot's RAM and GPU) so that compatibility can be computed, and `snapshots: 3` for a detail history.
import pg from "pg";

const VENDORS = ["NVIDIA", "AMD", "Intel", "Apple"];

/**
 * Seed `n` devices into the database at `url`; `progress(done, n)` after every chunk. Runs ANALYZE at the end.
 * Options: `inventory` (object): each snapshot's `data` is it with that snapshot's RAM and GPU (default `{}`);
 * `snapshots`: snapshots per device (default: one, and an older second one on every 4th device).
 */
export async function seedDevices(url, n, progress = () => {}, { inventory = null, snapshots = null } = {}) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const chunk = 10_000;
    for (let from = 1; from <= n; from += chunk) {
      const to = Math.min(n, from + chunk - 1);
      await client.query("BEGIN");
      // ids and hostnames are zero-padded so sorting and substring search behave like a real fleet's names.
      // 5% revoked, 10% never seen, 30% seen in the last minute (online), the rest within the last ~2 days.
      await client.query(
        `INSERT INTO "Device" (id, hostname, state, "publicKeyJwk", "publicKeyThumbprint", "agentVersion", labels, "enrolledAt", "updatedAt", "gpuVendors")
         SELECT 'dev-' || lpad(i::text, 7, '0'),
                'ws-' || lpad(((i * 7919) % $3)::text, 7, '0') || '.corp',
                (CASE WHEN i % 20 = 0 THEN 'revoked' ELSE 'active' END)::"DeviceState",
                '{"kty":"OKP","crv":"Ed25519","x":"AAAA"}'::jsonb,
                'thumb-' || i,
                '0.1.0',
                '{}'::jsonb,
                now() - (i % 1000) * interval '1 hour',
                now(),
                CASE WHEN i % 4 = 1 THEN '' ELSE ($4::text[])[1 + (i / 4) % 4] END
         FROM generate_series($1::int, $2::int) i`,
        [from, to, Math.max(n, 10), VENDORS],
      );
      // liveness (DeviceLiveness): none for the never-seen devices
      await client.query(
        `INSERT INTO "DeviceLiveness" ("deviceId", "lastSeenAt", "lastSeq")
         SELECT 'dev-' || lpad(i::text, 7, '0'),
                CASE WHEN i % 10 < 3 THEN now() - (i % 60) * interval '1 second' ELSE now() - ((i * 37) % 172800) * interval '1 second' END,
                10
         FROM generate_series($1::int, $2::int) i WHERE i % 10 <> 3`,
        [from, to],
      );
      // every device one snapshot; every 4th an older one as well (the list must pick the latest), or `snapshots` each
      const k = snapshots === null ? `generate_series(0, 1) k WHERE (k = 0 OR i % 4 = 0)` : `generate_series(0, ${Number(snapshots) - 1}) k WHERE TRUE`;
      // GPUs on 3 of 4 devices (on every snapshot, vendor changing with its age: old ones count as rows the vendor filter must skip)
      const gpuRows = `SELECT i, k, ($3::text[])[1 + (i / 4 + k) % 4] AS vendor, 'GPU model ' || (i % 12) AS model, (8 + (i % 4) * 8)::bigint * 1073741824 AS vram
         FROM generate_series($1::int, $2::int) i, ${k} AND i % 4 <> 1`;
      await client.query(
        `INSERT INTO "InventorySnapshot" (id, "deviceId", "msgId", "collectedAt", "receivedAt", "cpuBrand", "cpuCores", "ramTotalBytes", "ramFreeBytes", "osName", "modelsDirFreeBytes", "hasBattery", data)
         SELECT 'snap-' || i || '-' || k, 'dev-' || lpad(i::text, 7, '0'), 'msg-inv-' || i || '-' || k,
                now() - k * interval '1 day', now() - k * interval '1 day',
                'AMD EPYC', 8 + (i % 4) * 8, ram, 4294967296, 'Debian 12', 107374182400, i % 3 = 0,
                CASE WHEN $4::jsonb IS NULL THEN '{}'::jsonb
                     ELSE jsonb_set(jsonb_set($4::jsonb, '{memory,totalBytes}', to_jsonb(ram)), '{gpus}',
                       CASE WHEN i % 4 = 1 THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('vendor', ($3::text[])[1 + (i / 4 + k) % 4],
                         'model', 'GPU model ' || (i % 12), 'vramBytes', (8 + (i % 4) * 8)::bigint * 1073741824, 'vramFreeBytes', null,
                         'driverVersion', '550.1', 'bus', null)) END) END
         FROM (SELECT i, k, (16 + (i % 8) * 16)::bigint * 1073741824 AS ram FROM generate_series($1::int, $2::int) i, ${k}) s`,
        [from, to, VENDORS, inventory === null ? null : JSON.stringify(inventory)],
      );
      await client.query(
        `INSERT INTO "Gpu" (id, "snapshotId", "deviceId", index, vendor, model, "vramBytes", "driverVersion")
         SELECT 'gpu-' || i || '-' || k, 'snap-' || i || '-' || k, 'dev-' || lpad(i::text, 7, '0'), 0, vendor, model, vram, '550.1' FROM (${gpuRows}) g`,
        [from, to, VENDORS],
      );
      // 2-3 installed models per device (a third removed on some), shas drawn from 40 distinct models
      await client.query(
        `INSERT INTO "InstalledModel" (id, "deviceId", path, "fileName", "sizeBytes", "mtimeMs", sha256, architecture, quantization, "removedAt")
         SELECT 'im-' || i || '-' || m, 'dev-' || lpad(i::text, 7, '0'), '/models/model-' || ((i + m) % 40) || '.gguf',
                'model-' || ((i + m) % 40) || '.gguf', 4294967296, 1700000000000, lpad(to_hex((i + m) % 40), 64, '0'),
                'llama', 'Q4_K_M', CASE WHEN m = 2 THEN now() ELSE NULL END
         FROM generate_series($1::int, $2::int) i, generate_series(0, 2) m
         WHERE m < 2 OR i % 3 = 0`,
        [from, to],
      );
      await client.query("COMMIT");
      progress(to, n);
    }
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

/**
 * Heartbeats for the online cohort (every device whose number ends in 0-2, as seeded): last seen 0-59 s ago again,
 * so "online" still means 30% of the fleet minutes after seeding (the server's cutoff is FLEET_OFFLINE_AFTER_SEC).
 */
export async function touchOnlineDevices(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `UPDATE "DeviceLiveness" SET "lastSeenAt" = now() - (substr("deviceId", 5)::int % 60) * interval '1 second'
       WHERE substr("deviceId", 5)::int % 10 < 3`,
    );
    return rowCount;
  } finally {
    await client.end();
  }
}
