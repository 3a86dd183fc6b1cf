-- CreateIndex
CREATE INDEX "DeviceEvent_receivedAt_idx" ON "DeviceEvent"("receivedAt");

-- CreateIndex
CREATE INDEX "ProcessedMessage_sentAt_idx" ON "ProcessedMessage"("sentAt");
