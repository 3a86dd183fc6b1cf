import { createHash, randomUUID } from "node:crypto";
import type { PrismaClient } from "@fleet/db";
import type { TCompatibilityClass } from "@fleet/protocol";

// Until the catalog import (engineer B) is used here, rollout tests insert catalog entries and compatibility rows
// directly: the rows the rollout code reads, nothing more.

export interface TestEntry {
  id: string;
  targetPath: string;
  sha256: string;
  sizeBytes: number;
}

export async function newCatalogEntry(prisma: PrismaClient, over: { name?: string; version?: string; state?: "draft" | "approved" | "deprecated" | "revoked"; stateReason?: string } = {}): Promise<TestEntry> {
  const name = over.name ?? `tiny-${randomUUID().slice(0, 8)}`;
  const version = over.version ?? "1.0.0";
  const targetPath = `${name}-${version}.gguf`;
  const sha256 = createHash("sha256").update(targetPath).digest("hex");
  const row = await prisma.catalogEntry.create({
    data: {
      name,
      version,
      targetPath,
      state: over.state ?? "approved",
      stateReason: over.stateReason ?? null,
      sha256,
      sizeBytes: 1_750_560n,
      architecture: "llama",
      quantization: "F16",
      parameterCount: 1_000_000n,
      contextLength: 2048,
      license: "apache-2.0",
      facts: {},
      createdBy: "test",
      stateChangedBy: "test",
    },
  });
  return { id: row.id, targetPath, sha256, sizeBytes: 1_750_560 };
}

export async function setCompatibility(prisma: PrismaClient, entryId: string, deviceId: string, cls: TCompatibilityClass, reason: string | null = null): Promise<void> {
  await prisma.deviceCompatibility.upsert({
    where: { deviceId_entryId: { deviceId, entryId } },
    create: { deviceId, entryId, class: cls, gpuLayers: 0, totalLayers: 2, hardwareClass: "ram-32g/gpu-none", reason },
    update: { class: cls, reason },
  });
}
