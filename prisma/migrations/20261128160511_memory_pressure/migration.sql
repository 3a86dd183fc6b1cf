-- AlterTable
ALTER TABLE "ModelLoad" ADD COLUMN     "memoryPressure" JSONB;

-- AlterTable
ALTER TABLE "RuntimeMetric" ADD COLUMN     "memoryPressure" JSONB;

-- CreateTable
CREATE TABLE "MemoryPressureFlag" (
    "deviceId" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "sha256" TEXT,
    "reason" TEXT NOT NULL,
    "figures" JSONB NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MemoryPressureFlag_pkey" PRIMARY KEY ("deviceId","modelId")
);

-- AddForeignKey
ALTER TABLE "MemoryPressureFlag" ADD CONSTRAINT "MemoryPressureFlag_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;
