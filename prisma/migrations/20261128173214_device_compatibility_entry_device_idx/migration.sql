-- CreateIndex
CREATE INDEX "DeviceCompatibility_entryId_deviceId_idx" ON "DeviceCompatibility"("entryId", "deviceId");
