-- CreateTable
CREATE TABLE "CatalogQuality" (
    "entryId" TEXT NOT NULL,
    "referenceEntryId" TEXT NOT NULL,
    "perplexity" DOUBLE PRECISION NOT NULL,
    "top1Agreement" DOUBLE PRECISION NOT NULL,
    "referencePerplexity" DOUBLE PRECISION NOT NULL,
    "harnessVersion" TEXT NOT NULL,
    "textId" TEXT NOT NULL,
    "textSha256" TEXT NOT NULL,
    "contextSize" INTEGER NOT NULL,
    "scoredTokens" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "measuredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "measuredBy" TEXT NOT NULL,

    CONSTRAINT "CatalogQuality_pkey" PRIMARY KEY ("entryId")
);

-- CreateIndex
CREATE INDEX "CatalogQuality_referenceEntryId_idx" ON "CatalogQuality"("referenceEntryId");

-- AddForeignKey
ALTER TABLE "CatalogQuality" ADD CONSTRAINT "CatalogQuality_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "CatalogEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;
