-- CreateTable
CREATE TABLE "EgressReport" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "msgId" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "since" TIMESTAMP(3) NOT NULL,
    "collectedAt" TIMESTAMP(3) NOT NULL,
    "bytesSent" BIGINT NOT NULL,
    "bytesReceived" BIGINT NOT NULL,
    "entries" JSONB NOT NULL,

    CONSTRAINT "EgressReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EgressDestination" (
    "deviceId" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "bytesSent" BIGINT NOT NULL,
    "bytesReceived" BIGINT NOT NULL,
    "connections" INTEGER NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "reportedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EgressDestination_pkey" PRIMARY KEY ("deviceId","purpose","host","port","address")
);

-- CreateTable
CREATE TABLE "DevicePolicySetting" (
    "id" TEXT NOT NULL,
    "privacy" JSONB NOT NULL,
    "resources" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "DevicePolicySetting_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RemoteFallbackConsent" (
    "deviceId" TEXT NOT NULL,
    "grantedBy" TEXT NOT NULL,
    "grantedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RemoteFallbackConsent_pkey" PRIMARY KEY ("deviceId")
);

-- CreateTable
CREATE TABLE "DeviceIssuedPolicy" (
    "deviceId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "jws" TEXT NOT NULL,
    "policy" JSONB NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DeviceIssuedPolicy_pkey" PRIMARY KEY ("deviceId")
);

-- CreateIndex
CREATE UNIQUE INDEX "EgressReport_msgId_key" ON "EgressReport"("msgId");

-- CreateIndex
CREATE INDEX "EgressReport_deviceId_receivedAt_idx" ON "EgressReport"("deviceId", "receivedAt" DESC);

-- CreateIndex
CREATE INDEX "EgressDestination_host_port_idx" ON "EgressDestination"("host", "port");

-- AddForeignKey
ALTER TABLE "EgressReport" ADD CONSTRAINT "EgressReport_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EgressDestination" ADD CONSTRAINT "EgressDestination_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeviceIssuedPolicy" ADD CONSTRAINT "DeviceIssuedPolicy_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device"("id") ON DELETE CASCADE ON UPDATE CASCADE;
