-- CreateIndex
CREATE INDEX "RuntimeMetric_deviceId_sha256_windowEnd_idx" ON "RuntimeMetric"("deviceId", "sha256", "windowEnd" DESC);
