-- Liveness moves out of Device into a narrow table of its own (schema.prisma, DeviceLiveness): one row per device
-- seen at least once; a device never seen has none.

-- CreateTable
CREATE TABLE "DeviceLiveness" (
    "deviceId" TEXT NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeq" BIGINT NOT NULL DEFAULT -1,

    CONSTRAINT "DeviceLiveness_pkey" PRIMARY KEY ("deviceId")
);

-- what Device knew moves along
INSERT INTO "DeviceLiveness" ("deviceId", "lastSeenAt", "lastSeq")
SELECT "id", "lastSeenAt", "lastSeq" FROM "Device" WHERE "lastSeenAt" IS NOT NULL;

-- CreateIndex
CREATE INDEX "DeviceLiveness_lastSeenAt_deviceId_idx" ON "DeviceLiveness"("lastSeenAt" DESC, "deviceId");

-- AddForeignKey
ALTER TABLE "DeviceLiveness" ADD CONSTRAINT "DeviceLiveness_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- DropIndex
DROP INDEX "Device_lastSeenAt_id_idx";

-- AlterTable
ALTER TABLE "Device" DROP COLUMN "lastSeenAt",
DROP COLUMN "lastSeq";
