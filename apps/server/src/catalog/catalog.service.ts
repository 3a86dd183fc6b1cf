import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { ErrorCode, targetPathOf, ZCatalogFactsV1, type TCatalogEntryV1, type TCatalogImportRequestV1, type TCatalogQualityV1, type TCatalogState } from "@fleet/protocol";
import { AppError, NotFoundError } from "../common/app-error.js";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { CompatibilityService } from "../compatibility/compatibility.service.js";
import { RevokedEntries } from "../rollouts/revoked-entries.js";
import { TufRepositoryService } from "../trust/tuf-repository.service.js";
import { ArtifactTooLargeError, stageArtifact } from "./artifact-store.js";
import { buildCatalogFacts, CatalogFactsError } from "./build-catalog-facts.js";
import { CatalogRepository, DuplicateEntryError, type CatalogEntryRow } from "./catalog.repository.js";
import { NotGgufError, readGgufFacts } from "./read-gguf-facts.js";
import { QualityService } from "./quality/quality.service.js";
import { actingAs } from "../common/request-context.js";

export type CatalogAction = "approve" | "deprecate" | "revoke";

/** Allowed moves: draft -> approved -> deprecated -> revoked; a draft or approved entry may be revoked directly. */
const TRANSITIONS: Record<CatalogAction, { from: readonly TCatalogState[]; to: TCatalogState }> = {
  approve: { from: ["draft"], to: "approved" },
  deprecate: { from: ["approved"], to: "deprecated" },
  revoke: { from: ["draft", "approved", "deprecated"], to: "revoked" },
};

@Injectable()
export class CatalogService {
  private readonly log: Logger;

  constructor(
    private readonly repo: CatalogRepository,
    private readonly tuf: TufRepositoryService,
    private readonly compat: CompatibilityService,
    private readonly revokedEntries: RevokedEntries,
    private readonly quality: QualityService,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) rootLog: Logger,
  ) {
    this.log = rootLog.child({ context: "CatalogService" });
  }

  /** Import a GGUF file that is already on the server (admin only): copied into the content-addressed store. */
  async importFromPath(req: TCatalogImportRequestV1, actorName = "admin"): Promise<TCatalogEntryV1> {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    if (!req.path) throw new AppError(ErrorCode.ValidationFailed, "path is required (or upload the bytes to /api/v1/catalog/upload)");
    if (!path.isAbsolute(req.path)) throw new AppError(ErrorCode.ValidationFailed, "path must be absolute");
    const stat = await fs.stat(req.path).catch(() => null);
    if (!stat?.isFile()) throw new AppError(ErrorCode.ValidationFailed, `path ${req.path} is not a readable regular file`);
    await this.refuseDuplicate(req);
    return this.importStream(req, createReadStream(req.path), actor, "path");
  }

  /** Import streamed bytes (the request body), never buffered whole; over the limit = 413, nothing kept. */
  async importFromUpload(req: TCatalogImportRequestV1, body: Readable, declaredLength: number | null, actorName = "admin"): Promise<TCatalogEntryV1> {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    if (declaredLength !== null && declaredLength > this.config.uploadMaxBytes) {
      throw new AppError(ErrorCode.PayloadTooLarge, `upload of ${declaredLength} bytes exceeds the limit of ${this.config.uploadMaxBytes} bytes`);
    }
    await this.refuseDuplicate(req);
    return this.importStream(req, body, actor, "upload");
  }

  private async refuseDuplicate(req: TCatalogImportRequestV1): Promise<void> {
    if (await this.repo.exists(req.name, req.version)) throw new AppError(ErrorCode.Conflict, `${req.name} ${req.version} is already in the catalog`);
  }

  private async importStream(req: TCatalogImportRequestV1, source: Readable, actor: string, via: string): Promise<TCatalogEntryV1> {
    const targetPath = targetPathOf(req.name, req.version);
    let staged;
    try {
      staged = await stageArtifact(this.config.dataDir, source, this.config.uploadMaxBytes);
    } catch (err) {
      if (err instanceof ArtifactTooLargeError) throw new AppError(ErrorCode.PayloadTooLarge, err.message);
      throw err;
    }
    let facts;
    try {
      // Read from the staged copy: the facts describe exactly the bytes that will be served.
      const gguf = await readGgufFacts(staged.tempPath);
      facts = buildCatalogFacts(req, gguf, { sha256: staged.sha256, sizeBytes: staged.sizeBytes });
    } catch (err) {
      await staged.discard();
      if (err instanceof NotGgufError || err instanceof CatalogFactsError) throw new AppError(ErrorCode.ValidationFailed, err.message);
      throw err;
    }
    await staged.commit();
    try {
      const row = await this.repo.create({ targetPath, facts, actor, via });
      this.log.info({ entryId: row.id, targetPath, sha256: facts.sha256, sizeBytes: facts.fileSizeBytes }, "catalog entry imported");
      return toView(row, null);
    } catch (err) {
      if (err instanceof DuplicateEntryError) throw new AppError(ErrorCode.Conflict, err.message);
      throw err;
    }
  }

  async list(q: { page: number; pageSize: number; state?: TCatalogState; name?: string }) {
    const { items, total } = await this.repo.list(q);
    const quality = await this.quality.qualityOf(items);
    return { items: items.map((row, i) => toView(row, quality[i]!)), total, page: q.page, pageSize: q.pageSize };
  }

  async get(id: string): Promise<TCatalogEntryV1> {
    const row = await this.repo.get(id);
    if (!row) throw new NotFoundError("catalog entry", id);
    const [quality] = await this.quality.qualityOf([row]);
    return toView(row, quality!);
  }

  /** Every quantization of the entry's source model, side by side (never another source model). */
  variants(id: string) {
    return this.quality.variants(id, toView);
  }

  /** approve | deprecate | revoke; re-signs the TUF targets; an approval recomputes the fleet's compatibility. */
  async transition(id: string, action: CatalogAction, reason: string, actorName = "admin"): Promise<TCatalogEntryV1> {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    const t = TRANSITIONS[action];
    if (action === "approve" && this.config.quality.gate) await this.refuseBelowQuality(id);
    const res = await this.repo.transition(id, t.from, t.to, actor, reason);
    if (!res.ok) {
      if (res.reason === "not_found") throw new NotFoundError("catalog entry", id);
      throw new AppError(ErrorCode.Conflict, `cannot ${action} an entry that is ${res.state} (allowed from: ${t.from.join(", ")})`);
    }
    await this.tuf.publishTargets();
    if (t.to === "approved") {
      // Whole-fleet recompute runs after the answer; rows appear as batches commit.
      this.compat.recomputeEntry(id).catch((err) => this.log.error({ err, entryId: id }, "compatibility recompute after approval failed"));
    }
    // Devices must stop serving a revoked model: open rollouts of it abort and roll back, holders are told.
    if (t.to === "revoked") await this.revokedEntries.onEntryRevoked(id, actor);
    this.log.info({ entryId: id, to: t.to, actor }, "catalog entry state changed");
    const [quality] = await this.quality.qualityOf([res.entry]);
    return toView(res.entry, quality!);
  }

  /** FLEET_QUALITY_GATE=on: a draft is approved only with a quality score within the margin of its reference (409 says why). */
  private async refuseBelowQuality(id: string): Promise<void> {
    const row = await this.repo.get(id);
    if (!row || row.state !== "draft") return; // the transition answers 404 / 409 for these
    const verdict = await this.quality.approvalVerdict(row);
    if (!verdict.ok) throw new AppError(ErrorCode.Conflict, `cannot approve: ${verdict.reason}`, { gate: "quality" });
  }
}

function toView(row: CatalogEntryRow, quality: TCatalogQualityV1 | null): TCatalogEntryV1 {
  return {
    id: row.id,
    state: row.state,
    targetPath: row.targetPath,
    facts: ZCatalogFactsV1.parse(row.facts),
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    stateChangedAt: row.stateChangedAt.toISOString(),
    stateChangedBy: row.stateChangedBy,
    stateReason: row.stateReason,
    quality,
  };
}
