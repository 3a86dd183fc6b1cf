-- CreateEnum
CREATE TYPE "DeviceState" AS ENUM ('active', 'revoked');

-- CreateEnum
CREATE TYPE "BenchmarkStatus" AS ENUM ('requested', 'completed', 'failed');

-- CreateTable
CREATE TABLE "Device" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "state" "DeviceState" NOT NULL DEFAULT 'active',
    "publicKeyJwk" JSONB NOT NULL,
    "publicKeyThumbprint" TEXT NOT NULL,
    "agentVersion" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "enrolledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "enrollmentTokenId" TEXT,
    "lastSeenAt" TIMESTAMP(3),
    "lastSeq" BIGINT NOT NULL DEFAULT -1,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Device_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EnrollmentToken" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "note" TEXT,
    "createdBy" TEXT NOT NULL DEFAULT 'admin',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),

    CONSTRAINT "EnrollmentToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InventorySnapshot" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "collectedAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cpuBrand" TEXT NOT NULL,
    "cpuCores" INTEGER NOT NULL,
    "ramTotalBytes" BIGINT NOT NULL,
    "ramFreeBytes" BIGINT NOT NULL,
    "osName" TEXT NOT NULL,
    "modelsDirFreeBytes" BIGINT NOT NULL,
    "hasBattery" BOOLEAN NOT NULL,
    "data" JSONB NOT NULL,

    CONSTRAINT "InventorySnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Gpu" (
    "id" TEXT NOT NULL,
    "snapshotId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "vendor" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "vramBytes" BIGINT,
    "driverVersion" TEXT,

    CONSTRAINT "Gpu_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstalledModel" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "mtimeMs" DOUBLE PRECISION NOT NULL,
    "sha256" TEXT NOT NULL,
    "architecture" TEXT,
    "fileType" TEXT,
    "quantization" TEXT,
    "parameterCount" DOUBLE PRECISION,
    "contextLength" INTEGER,
    "tokenizer" TEXT,
    "license" TEXT,
    "name" TEXT,
    "gguf" JSONB,
    "error" TEXT,
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removedAt" TIMESTAMP(3),

    CONSTRAINT "InstalledModel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Heartbeat" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "sentAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "agentVersion" TEXT NOT NULL,
    "uptimeSec" DOUBLE PRECISION NOT NULL,
    "queueDepth" INTEGER NOT NULL,
    "runtimeState" TEXT NOT NULL,
    "activeModel" TEXT,
    "rssBytes" BIGINT NOT NULL,

    CONSTRAINT "Heartbeat_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PostureReport" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "telemetry" TEXT NOT NULL,
    "remoteFallback" BOOLEAN NOT NULL,
    "promptsLeave" BOOLEAN NOT NULL,
    "apiEnabled" BOOLEAN NOT NULL,
    "apiBindAddress" TEXT NOT NULL,
    "apiLoopbackOnly" BOOLEAN NOT NULL,
    "apiAuthRequired" BOOLEAN NOT NULL,
    "data" JSONB NOT NULL,

    CONSTRAINT "PostureReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeviceEvent" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "level" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB,

    CONSTRAINT "DeviceEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RuntimeMetric" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "sha256" TEXT,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "windowEnd" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "requests" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "promptTokens" INTEGER NOT NULL,
    "outputTokens" INTEGER NOT NULL,
    "ttftP50Ms" DOUBLE PRECISION,
    "ttftP95Ms" DOUBLE PRECISION,
    "tpotP50Ms" DOUBLE PRECISION,
    "tpotP95Ms" DOUBLE PRECISION,

    CONSTRAINT "RuntimeMetric_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelLoad" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "modelId" TEXT NOT NULL,
    "sha256" TEXT,
    "ok" BOOLEAN NOT NULL,
    "error" TEXT,
    "loadMs" DOUBLE PRECISION NOT NULL,
    "backend" TEXT NOT NULL,
    "gpuLayers" INTEGER NOT NULL,
    "contextSize" INTEGER NOT NULL,
    "quantization" TEXT,
    "peakRssBytes" BIGINT NOT NULL,
    "peakVramBytes" BIGINT NOT NULL,
    "plan" JSONB,

    CONSTRAINT "ModelLoad_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BenchmarkRun" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "commandId" TEXT,
    "status" "BenchmarkStatus" NOT NULL DEFAULT 'requested',
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),
    "modelId" TEXT,
    "sha256" TEXT,
    "ppTokensPerSec" DOUBLE PRECISION,
    "tgTokensPerSec" DOUBLE PRECISION,
    "result" JSONB,

    CONSTRAINT "BenchmarkRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProcessedMessage" (
    "msgId" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "sentAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProcessedMessage_pkey" PRIMARY KEY ("msgId")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "details" JSONB,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Device_publicKeyThumbprint_key" ON "Device"("publicKeyThumbprint");

-- CreateIndex
CREATE UNIQUE INDEX "Device_enrollmentTokenId_key" ON "Device"("enrollmentTokenId");

-- CreateIndex
CREATE INDEX "Device_hostname_idx" ON "Device"("hostname");

-- CreateIndex
CREATE INDEX "Device_lastSeenAt_idx" ON "Device"("lastSeenAt");

-- CreateIndex
CREATE UNIQUE INDEX "EnrollmentToken_tokenHash_key" ON "EnrollmentToken"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "InventorySnapshot_msgId_key" ON "InventorySnapshot"("msgId");

-- CreateIndex
CREATE INDEX "InventorySnapshot_deviceId_receivedAt_idx" ON "InventorySnapshot"("deviceId", "receivedAt" DESC);

-- CreateIndex
CREATE INDEX "Gpu_deviceId_idx" ON "Gpu"("deviceId");

-- CreateIndex
CREATE INDEX "Gpu_vendor_idx" ON "Gpu"("vendor");

-- CreateIndex
CREATE UNIQUE INDEX "Gpu_snapshotId_index_key" ON "Gpu"("snapshotId", "index");

-- CreateIndex
CREATE INDEX "InstalledModel_sha256_idx" ON "InstalledModel"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "InstalledModel_deviceId_path_key" ON "InstalledModel"("deviceId", "path");

-- CreateIndex
CREATE UNIQUE INDEX "Heartbeat_msgId_key" ON "Heartbeat"("msgId");

-- CreateIndex
CREATE INDEX "Heartbeat_deviceId_receivedAt_idx" ON "Heartbeat"("deviceId", "receivedAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "PostureReport_msgId_key" ON "PostureReport"("msgId");

-- CreateIndex
CREATE INDEX "PostureReport_deviceId_receivedAt_idx" ON "PostureReport"("deviceId", "receivedAt" DESC);

-- CreateIndex
CREATE INDEX "DeviceEvent_deviceId_at_idx" ON "DeviceEvent"("deviceId", "at" DESC);

-- CreateIndex
CREATE INDEX "DeviceEvent_kind_idx" ON "DeviceEvent"("kind");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceEvent_msgId_idx_key" ON "DeviceEvent"("msgId", "idx");

-- CreateIndex
CREATE INDEX "RuntimeMetric_deviceId_modelId_windowEnd_idx" ON "RuntimeMetric"("deviceId", "modelId", "windowEnd" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "RuntimeMetric_msgId_modelId_key" ON "RuntimeMetric"("msgId", "modelId");

-- CreateIndex
CREATE INDEX "ModelLoad_deviceId_at_idx" ON "ModelLoad"("deviceId", "at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "ModelLoad_msgId_idx_key" ON "ModelLoad"("msgId", "idx");

-- CreateIndex
CREATE UNIQUE INDEX "BenchmarkRun_commandId_key" ON "BenchmarkRun"("commandId");

-- CreateIndex
CREATE INDEX "BenchmarkRun_deviceId_requestedAt_idx" ON "BenchmarkRun"("deviceId", "requestedAt" DESC);

-- CreateIndex
CREATE INDEX "ProcessedMessage_deviceId_seq_idx" ON "ProcessedMessage"("deviceId", "seq");

-- CreateIndex
CREATE INDEX "AuditLog_at_idx" ON "AuditLog"("at" DESC);

-- CreateIndex
CREATE INDEX "AuditLog_action_idx" ON "AuditLog"("action");

-- CreateIndex
CREATE INDEX "AuditLog_targetType_targetId_idx" ON "AuditLog"("targetType", "targetId");

-- AddForeignKey
ALTER TABLE "Device" ADD CONSTRAINT "Device_enrollmentTokenId_fkey" FOREIGN KEY ("enrollmentTokenId") REFERENCES "EnrollmentToken"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InventorySnapshot" ADD CONSTRAINT "InventorySnapshot_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Gpu" ADD CONSTRAINT "Gpu_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "InventorySnapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Gpu" ADD CONSTRAINT "Gpu_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstalledModel" ADD CONSTRAINT "InstalledModel_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Heartbeat" ADD CONSTRAINT "Heartbeat_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PostureReport" ADD CONSTRAINT "PostureReport_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeviceEvent" ADD CONSTRAINT "DeviceEvent_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuntimeMetric" ADD CONSTRAINT "RuntimeMetric_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelLoad" ADD CONSTRAINT "ModelLoad_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BenchmarkRun" ADD CONSTRAINT "BenchmarkRun_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProcessedMessage" ADD CONSTRAINT "ProcessedMessage_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;
