import { Inject, Injectable } from "@nestjs/common";
import type { Logger } from "pino";
import { differentSourceModel, type QualityVerdict } from "@fleet/catalog";
import { ErrorCode, type TCatalogEntryV1, type TCatalogQualityRunV1, type TCatalogQualityStatusV1, type TCatalogQualityV1, type TCatalogVariantsV1, ZCatalogFactsV1 } from "@fleet/protocol";
import { AppError, NotFoundError } from "../../common/app-error.js";
import { CONFIG, LOGGER } from "../../common/config.token.js";
import type { ServerConfig } from "../../common/env.js";
import { FleetEvent, FleetEventBus } from "../../events/fleet-events.js";
import { CatalogRepository, type CatalogEntryRow } from "../catalog.repository.js";
import { checkMeasurable, measureEntryQuality, QualityRefusedError, qualityVariantOf, qualityVerdict } from "./measure-entry-quality.js";
import { QualityRepository, type CatalogQualityRow } from "./quality.repository.js";
import { actingAs } from "../../common/request-context.js";

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Quality runs (one at a time per entry, in a child process), the approval gate and the quality views. */
@Injectable()
export class QualityService {
  private readonly log: Logger;
  /** this instance's latest run per entry (progress for the console and the CLI) */
  private readonly runs = new Map<string, TCatalogQualityRunV1>();

  constructor(
    private readonly catalog: CatalogRepository,
    private readonly repo: QualityRepository,
    private readonly events: FleetEventBus,
    @Inject(CONFIG) private readonly config: ServerConfig,
    @Inject(LOGGER) rootLog: Logger,
  ) {
    this.log = rootLog.child({ context: "QualityService" });
  }

  private async entryOr404(id: string): Promise<CatalogEntryRow> {
    const row = await this.catalog.get(id);
    if (!row) throw new NotFoundError("catalog entry", id);
    return row;
  }

  /** Start measuring `entryId` against `referenceEntryId`; answers at once with the run, which goes on in a child process. */
  async start(entryId: string, referenceEntryId: string, actorName = "admin"): Promise<TCatalogQualityRunV1> {
    const actor = actingAs(actorName); // the signed-in user behind a console request, else the caller's name
    const entry = await this.entryOr404(entryId);
    const reference = entryId === referenceEntryId ? entry : await this.entryOr404(referenceEntryId);
    // one at a time per server: each run loads a model (up to twice its file size in RAM) and takes the cores
    const running = [...this.runs.values()].find((r) => r.state === "running");
    if (running) throw new AppError(ErrorCode.Conflict, `a quality measurement is already running on this server (entry ${running.entryId}); try again when it ends`);
    try {
      checkMeasurable(entry, reference, this.config.dataDir);
    } catch (err) {
      if (err instanceof QualityRefusedError) throw new AppError(ErrorCode.Conflict, `cannot measure quality: ${err.message}`);
      throw err;
    }
    const run: TCatalogQualityRunV1 = { entryId, referenceEntryId, state: "running", phase: "starting", tokensDone: 0, tokensTotal: 0, startedAt: new Date().toISOString(), finishedAt: null, error: null };
    this.runs.set(entryId, run);
    const update = (change: Partial<TCatalogQualityRunV1>) => {
      Object.assign(run, change);
      this.events.publish(FleetEvent.CatalogQualityProgress, null, { ...run });
    };
    update({});
    this.log.info({ entryId, referenceEntryId, actor }, "quality measurement started");
    measureEntryQuality({
      entry,
      reference,
      dataDir: this.config.dataDir,
      config: this.config.quality,
      actor,
      repo: this.repo,
      onProgress: (p) => update({ phase: p.phase, tokensDone: p.done, tokensTotal: p.total }),
      onLog: (line) => this.log.warn({ worker: line }, "quality worker"),
    }).then(
      (row) => {
        update({ state: "succeeded", phase: "done", finishedAt: new Date().toISOString() });
        this.log.info({ entryId, perplexity: row.perplexity, top1Agreement: row.top1Agreement }, "quality measured");
      },
      (err: unknown) => {
        update({ state: "failed", finishedAt: new Date().toISOString(), error: err instanceof Error ? err.message : String(err) });
        this.log.error({ err, entryId }, "quality measurement failed");
      },
    );
    return { ...run };
  }

  async status(entryId: string): Promise<TCatalogQualityStatusV1> {
    const entry = await this.entryOr404(entryId);
    const [quality] = await this.qualityOf([entry]);
    const run = this.runs.get(entryId);
    return { quality: quality ?? null, run: run ? { ...run } : null };
  }

  /** The gate's verdict on approving this entry now. */
  async approvalVerdict(entry: CatalogEntryRow): Promise<QualityVerdict> {
    const score = await this.repo.get(entry.id);
    const reference = score ? (score.referenceEntryId === entry.id ? entry : await this.catalog.get(score.referenceEntryId)) : null;
    return this.verdict(entry, score, reference);
  }

  private verdict(entry: CatalogEntryRow, score: CatalogQualityRow | null, reference: CatalogEntryRow | null): QualityVerdict {
    return qualityVerdict(entry, score, reference, this.config.quality);
  }

  /** The quality view of each row (null = never measured), in order, with the gate's current verdict. */
  async qualityOf(rows: CatalogEntryRow[]): Promise<(TCatalogQualityV1 | null)[]> {
    const scores = new Map((await this.repo.findMany(rows.map((r) => r.id))).map((s) => [s.entryId, s]));
    const known = new Map(rows.map((r) => [r.id, r]));
    for (const s of scores.values()) {
      if (!known.has(s.referenceEntryId)) {
        const ref = await this.catalog.get(s.referenceEntryId);
        if (ref) known.set(ref.id, ref);
      }
    }
    return rows.map((row) => {
      const s = scores.get(row.id);
      if (!s) return null;
      const v = this.verdict(row, s, known.get(s.referenceEntryId) ?? null);
      return {
        perplexity: s.perplexity,
        top1Agreement: s.top1Agreement,
        referenceEntryId: s.referenceEntryId,
        referencePerplexity: s.referencePerplexity,
        harnessVersion: s.harnessVersion,
        textId: s.textId,
        textSha256: s.textSha256,
        contextSize: s.contextSize,
        scoredTokens: s.scoredTokens,
        settings: s.settings as TCatalogQualityV1["settings"],
        measuredAt: s.measuredAt.toISOString(),
        measuredBy: s.measuredBy,
        withinMargin: v.ok,
        marginReason: v.reason,
      };
    });
  }

  /** Every quantization of the entry's source model with size (in the entry), speed if benchmarked, and quality. */
  async variants(entryId: string, toView: (row: CatalogEntryRow, quality: TCatalogQualityV1 | null) => TCatalogEntryV1): Promise<TCatalogVariantsV1> {
    const entry = await this.entryOr404(entryId);
    const self = qualityVariantOf(entry);
    const rows = (await this.repo.candidateVariants(entry.architecture, entry.parameterCount)).filter((r) => differentSourceModel(self, qualityVariantOf(r)) === null);
    const [qualities, samples] = await Promise.all([this.qualityOf(rows), this.repo.speedSamples([...new Set(rows.map((r) => r.sha256))])]);
    return {
      sourceModel: { repository: ZCatalogFactsV1.parse(entry.facts).source.repository, architecture: entry.architecture, parameterCount: Number(entry.parameterCount) },
      items: rows.map((row, i) => {
        const mine = samples.filter((s) => s.sha256 === row.sha256);
        const tg = mine.flatMap((s) => (s.tgTokensPerSec === null ? [] : [s.tgTokensPerSec]));
        const pp = mine.flatMap((s) => (s.ppTokensPerSec === null ? [] : [s.ppTokensPerSec]));
        return { entry: toView(row, qualities[i]!), speed: mine.length ? { tgTokensPerSecMedian: median(tg), ppTokensPerSecMedian: median(pp), runs: mine.length } : null };
      }),
    };
  }
}
