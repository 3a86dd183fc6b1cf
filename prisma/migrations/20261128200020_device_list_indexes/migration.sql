-- CreateExtension: trigram operator classes for the devices list's substring search. Written here, not declared in
-- schema.prisma (postgresqlExtensions): through the driver adapter, migrate diff does not see the shadow database's
-- extensions and would report pg_trgm as drift. The GIN indexes below are declared there with ops: raw("gin_trgm_ops").
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- DropIndex
DROP INDEX "Device_hostname_idx";

-- DropIndex
DROP INDEX "Device_lastSeenAt_idx";

-- AlterTable
ALTER TABLE "Device" ADD COLUMN     "gpuVendors" TEXT NOT NULL DEFAULT '';

-- Backfill: the GPU vendors of each device's latest inventory, one per line (as the inventory writer keeps them)
UPDATE "Device" d SET "gpuVendors" = latest.vendors
FROM (SELECT DISTINCT ON (s."deviceId") s."deviceId",
        (SELECT coalesce(string_agg(replace(g.vendor, E'\n', ' '), E'\n' ORDER BY g.index), '') FROM "Gpu" g WHERE g."snapshotId" = s.id) AS vendors
      FROM "InventorySnapshot" s ORDER BY s."deviceId", s."receivedAt" DESC) latest
WHERE d.id = latest."deviceId" AND latest.vendors <> '';

-- CreateIndex
CREATE INDEX "Device_hostname_id_idx" ON "Device"("hostname", "id");

-- CreateIndex
CREATE INDEX "Device_lastSeenAt_id_idx" ON "Device"("lastSeenAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Device_enrolledAt_id_idx" ON "Device"("enrolledAt", "id");

-- CreateIndex
CREATE INDEX "Device_hostname_trgm_idx" ON "Device" USING GIN ("hostname" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Device_id_trgm_idx" ON "Device" USING GIN ("id" gin_trgm_ops);

