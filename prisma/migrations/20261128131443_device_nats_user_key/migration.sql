-- AlterTable
ALTER TABLE "Device" ADD COLUMN     "natsUserKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Device_natsUserKey_key" ON "Device"("natsUserKey");
