-- CreateEnum
CREATE TYPE "CatalogState" AS ENUM ('draft', 'approved', 'deprecated', 'revoked');

-- CreateEnum
CREATE TYPE "RolloutState" AS ENUM ('running', 'paused', 'completed', 'aborted', 'rolled_back');

-- CreateEnum
CREATE TYPE "RolloutDeviceState" AS ENUM ('skipped', 'waiting', 'pending', 'downloading', 'verifying', 'testing', 'active', 'failed', 'rolled_back');

-- CreateTable
CREATE TABLE "CatalogEntry" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "targetPath" TEXT NOT NULL,
    "state" "CatalogState" NOT NULL DEFAULT 'draft',
    "sha256" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "architecture" TEXT NOT NULL,
    "quantization" TEXT NOT NULL,
    "parameterCount" BIGINT NOT NULL,
    "contextLength" INTEGER NOT NULL,
    "license" TEXT NOT NULL,
    "facts" JSONB NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stateChangedBy" TEXT NOT NULL,
    "stateChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stateReason" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CatalogEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TufMetadata" (
    "role" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "body" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TufMetadata_pkey" PRIMARY KEY ("role","version")
);

-- CreateTable
CREATE TABLE "DeviceCompatibility" (
    "deviceId" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "class" TEXT NOT NULL,
    "gpuLayers" INTEGER NOT NULL,
    "totalLayers" INTEGER NOT NULL,
    "hardwareClass" TEXT NOT NULL,
    "reason" TEXT,
    "plan" JSONB,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeviceCompatibility_pkey" PRIMARY KEY ("deviceId","entryId")
);

-- CreateTable
CREATE TABLE "RuntimeIncompatibility" (
    "id" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "runtimeKey" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "deviceId" TEXT,
    "learnedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RuntimeIncompatibility_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Rollout" (
    "id" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "state" "RolloutState" NOT NULL DEFAULT 'running',
    "group" TEXT,
    "rings" JSONB NOT NULL,
    "currentRing" INTEGER NOT NULL DEFAULT 0,
    "ringStartedAt" TIMESTAMP(3),
    "ringHistory" JSONB NOT NULL DEFAULT '[]',
    "reason" TEXT,
    "note" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RolloutDevice" (
    "rolloutId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "ring" INTEGER,
    "state" "RolloutDeviceState" NOT NULL,
    "code" TEXT,
    "reason" TEXT,
    "bytesDone" BIGINT,
    "bytesTotal" BIGINT,
    "previousTarget" TEXT,
    "previousSha256" TEXT,
    "assignmentVersion" BIGINT,
    "selfTestTps" DOUBLE PRECISION,
    "timeline" JSONB NOT NULL DEFAULT '{}',
    "stateAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RolloutDevice_pkey" PRIMARY KEY ("rolloutId","deviceId")
);

-- CreateTable
CREATE TABLE "RolloutTransition" (
    "id" TEXT NOT NULL,
    "rolloutId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "ring" INTEGER,
    "state" "RolloutDeviceState" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RolloutTransition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeviceAssignment" (
    "deviceId" TEXT NOT NULL,
    "version" BIGINT NOT NULL,
    "action" TEXT NOT NULL,
    "rolloutId" TEXT,
    "ring" INTEGER,
    "targetPath" TEXT,
    "sha256" TEXT,
    "issuedAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "jws" TEXT NOT NULL,

    CONSTRAINT "DeviceAssignment_pkey" PRIMARY KEY ("deviceId")
);

-- CreateIndex
CREATE UNIQUE INDEX "CatalogEntry_targetPath_key" ON "CatalogEntry"("targetPath");

-- CreateIndex
CREATE INDEX "CatalogEntry_state_idx" ON "CatalogEntry"("state");

-- CreateIndex
CREATE INDEX "CatalogEntry_sha256_idx" ON "CatalogEntry"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "CatalogEntry_name_version_key" ON "CatalogEntry"("name", "version");

-- CreateIndex
CREATE INDEX "DeviceCompatibility_entryId_class_idx" ON "DeviceCompatibility"("entryId", "class");

-- CreateIndex
CREATE INDEX "DeviceCompatibility_entryId_hardwareClass_idx" ON "DeviceCompatibility"("entryId", "hardwareClass");

-- CreateIndex
CREATE UNIQUE INDEX "RuntimeIncompatibility_entryId_runtimeKey_key" ON "RuntimeIncompatibility"("entryId", "runtimeKey");

-- CreateIndex
CREATE INDEX "Rollout_state_idx" ON "Rollout"("state");

-- CreateIndex
CREATE INDEX "Rollout_entryId_idx" ON "Rollout"("entryId");

-- CreateIndex
CREATE INDEX "RolloutDevice_rolloutId_ring_state_idx" ON "RolloutDevice"("rolloutId", "ring", "state");

-- CreateIndex
CREATE INDEX "RolloutDevice_deviceId_idx" ON "RolloutDevice"("deviceId");

-- CreateIndex
CREATE INDEX "RolloutTransition_rolloutId_at_idx" ON "RolloutTransition"("rolloutId", "at");

-- AddForeignKey
ALTER TABLE "DeviceCompatibility" ADD CONSTRAINT "DeviceCompatibility_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeviceCompatibility" ADD CONSTRAINT "DeviceCompatibility_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "CatalogEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuntimeIncompatibility" ADD CONSTRAINT "RuntimeIncompatibility_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "CatalogEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "CatalogEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutDevice" ADD CONSTRAINT "RolloutDevice_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutDevice" ADD CONSTRAINT "RolloutDevice_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeviceAssignment" ADD CONSTRAINT "DeviceAssignment_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;
