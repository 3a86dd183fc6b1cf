import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/test-utils";
import { FleetEvent, ZCatalogEntryV1, ZCatalogQualityRunV1, ZCatalogQualityStatusV1, ZCatalogVariantsV1, type TCatalogEntryV1, type TFleetEventOf } from "@fleet/protocol";
import { FleetEventBus } from "../../events/fleet-events.js";
import { EXIT_USAGE, runCli } from "../../cli.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const TINY = "/work/shared/models/llama-2-tiny-random.gguf";
const SOURCE = "https://huggingface.co/test/tiny";

let t: TestServer;
let tmp: string;
let perturbed: string;

/**
 * A copy of the tiny model with perturbed output weights (header untouched, so the GGUF stays valid and its facts
 * equal the original's): every F16 value of output.weight is scaled by 16 (exponent + 4) and every 7th has its sign
 * flipped, so the predictions are sharper and partly different.
 */
async function writePerturbedCopy(file: string): Promise<void> {
  const info = await readGgufFileInfo(TINY, { readTensorInfo: true });
  const tensor = info.fullTensorInfo!.find((x) => x.name === "output.weight")!;
  expect(tensor.ggmlType).toBe(1); // F16
  const buf = fs.readFileSync(TINY);
  const off = Number(tensor.fileOffset);
  const count = tensor.dimensions.reduce((a: number, b) => a * Number(b), 1);
  for (let i = 0; i < count; i++) {
    const v = buf.readUInt16LE(off + 2 * i);
    const exp = (v >> 10) & 0x1f;
    let next = exp > 0 && exp + 4 < 31 ? (v & ~(0x1f << 10)) | ((exp + 4) << 10) : v;
    if (i % 7 === 0) next ^= 0x8000;
    buf.writeUInt16LE(next, off + 2 * i);
  }
  fs.writeFileSync(file, buf);
}

async function importEntry(name: string, file: string, repository = SOURCE): Promise<TCatalogEntryV1> {
  const res = await t.admin("/api/v1/catalog/import", {
    method: "POST",
    body: JSON.stringify({ name, version: "1", source: { repository, revision: "r1" }, conversion: { method: "test" }, license: "MIT", path: file }),
  });
  expect(res.status).toBe(201);
  return ZCatalogEntryV1.parse(await res.json());
}

const approve = (id: string) => t.admin(`/api/v1/catalog/${id}/approve`, { method: "POST", body: JSON.stringify({ reason: "quality test" }) });
const measure = (id: string, referenceEntryId: string) => t.admin(`/api/v1/catalog/${id}/quality`, { method: "POST", body: JSON.stringify({ referenceEntryId }) });
const errorOf = async (res: Response): Promise<string> => ((await res.json()) as { error: { message: string } }).error.message;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "quality-spec-"));
  perturbed = path.join(tmp, "tiny-perturbed.gguf");
  await writePerturbedCopy(perturbed);
  t = await startTestServer({ FLEET_QUALITY_GATE: "on", FLEET_QUALITY_THREADS: "1", FLEET_QUALITY_MAX_PERPLEXITY_INCREASE_PCT: "10", FLEET_QUALITY_MIN_TOP1_AGREEMENT: "0.9" });
});

afterAll(async () => {
  await t?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("catalog quality gate", () => {
  it("the reference is measured against itself (CLI), the perturbed copy scores differently and cannot be approved, and the reason says by how much", async () => {
    const ref = await importEntry("tiny-ref", TINY);
    const variant = await importEntry("tiny-perturbed", perturbed);
    expect(variant.facts.parameterCount).toBe(ref.facts.parameterCount);
    expect(ref.quality).toBeNull();

    // no score yet: refused
    const unmeasured = await approve(ref.id);
    expect(unmeasured.status).toBe(409);
    expect(await errorOf(unmeasured)).toMatch(/cannot approve: no quality score/);

    // the reference measured as its own reference through the CLI (progress on stderr)
    let out = "";
    let err = "";
    const env = { DATABASE_URL: t.db.url, FLEET_DATA_DIR: t.config.dataDir, FLEET_QUALITY_THREADS: "1" };
    const code = await runCli(["catalog", "quality", ref.id, "--reference", ref.id], { env, out: (s) => (out += s), err: (s) => (err += s) });
    expect(code, err).toBe(0);
    expect(err).toMatch(/entry: \d+\/\d+ tokens/);
    expect(out).toMatch(/top-1 agreement 1\.000/);
    expect(out).toMatch(/within the approval margin/);
    expect((await approve(ref.id)).status).toBe(200);

    // the perturbed copy against the reference, over REST, followed to the end (also as websocket events)
    const events: TFleetEventOf<"catalog.quality.progress">[] = [];
    const unsubscribe = t.server.app.get(FleetEventBus).subscribe((e) => {
      if (e.type === FleetEvent.CatalogQualityProgress) events.push(e);
    });
    const started = await measure(variant.id, ref.id);
    expect(started.status).toBe(202);
    expect(ZCatalogQualityRunV1.parse(await started.json())).toMatchObject({ state: "running", referenceEntryId: ref.id });
    const busy = await measure(ref.id, ref.id); // one run per server at a time
    expect(busy.status).toBe(409);
    expect(await errorOf(busy)).toMatch(new RegExp(`already running on this server \\(entry ${variant.id}\\)`));
    const status = await waitFor(
      async () => {
        const s = ZCatalogQualityStatusV1.parse(await (await t.admin(`/api/v1/catalog/${variant.id}/quality`)).json());
        return s.run?.state === "running" ? null : s;
      },
      "the quality run to finish",
      90_000, // two harness passes of the tiny model: seconds on an idle machine, far longer on a loaded CI one
    );
    expect(status.run).toMatchObject({ state: "succeeded", phase: "done" });
    unsubscribe();
    expect(events.map((e) => e.data.phase)).toEqual(expect.arrayContaining(["starting", "reference", "candidate", "done"]));
    expect(status.run!.tokensTotal).toBeGreaterThan(500);
    const q = status.quality!;
    const refQuality = (await (await t.admin(`/api/v1/catalog/${ref.id}`)).json()) as TCatalogEntryV1;
    expect(refQuality.quality).toMatchObject({ referenceEntryId: ref.id, top1Agreement: 1, withinMargin: true, marginReason: null, harnessVersion: "quality/1", textId: "fleetwise-prose-v1", contextSize: 512 });
    expect(q).toMatchObject({ referenceEntryId: ref.id, settings: { threads: 1, batchSize: 512, gpuLayers: 0, sampling: "greedy" }, withinMargin: false });
    expect(q.referencePerplexity).toBeCloseTo(refQuality.quality!.perplexity, 6);
    expect(q.perplexity).toBeGreaterThan(q.referencePerplexity * 1.1);
    expect(q.top1Agreement).toBeLessThan(0.9);
    const pct = ((q.perplexity / q.referencePerplexity - 1) * 100).toFixed(1);
    expect(q.marginReason).toContain(`is ${pct}% above reference ${Math.round(q.referencePerplexity)}; allowed 10%`);
    expect(q.marginReason).toMatch(/top-1 agreement with the reference 0\.\d{3} is 0\.\d{3} below the minimum 0\.900/);

    const refused = await approve(variant.id);
    expect(refused.status).toBe(409);
    expect(await errorOf(refused)).toBe(`cannot approve: ${q.marginReason}`);

    const audit = await t.db.prisma.auditLog.findMany({ where: { action: "catalog.quality_measured" }, orderBy: { at: "asc" } });
    expect(audit.map((a) => [a.actor, a.targetId])).toEqual([["cli", ref.id], ["admin", variant.id]]);

    // another source model is never compared, and never listed beside it
    const other = await importEntry("tiny-other", TINY, "https://huggingface.co/test/other");
    const cross = await measure(other.id, ref.id);
    expect(cross.status).toBe(409);
    expect(await errorOf(cross)).toMatch(/not variants of the same source model \(source https:\/\/huggingface.co\/test\/other vs https:\/\/huggingface.co\/test\/tiny\)/);
    const variants = ZCatalogVariantsV1.parse(await (await t.admin(`/api/v1/catalog/${ref.id}/variants`)).json());
    expect(variants.sourceModel).toMatchObject({ repository: SOURCE, architecture: "llama" });
    expect(variants.items.map((i) => [i.entry.facts.name, i.entry.quality?.withinMargin, i.speed])).toEqual([
      ["tiny-ref", true, null],
      ["tiny-perturbed", false, null],
    ]);
    const list = (await (await t.admin("/api/v1/catalog?name=tiny-perturbed")).json()) as { items: TCatalogEntryV1[] };
    expect(list.items[0]!.quality?.perplexity).toBe(q.perplexity);
  }, 180_000);

  it("needs the admin token, 404 for an unknown entry, and is in the OpenAPI document", async () => {
    expect((await fetch(`${t.url}/api/v1/catalog/00000000-0000-4000-8000-000000000000/quality`, { method: "POST" })).status).toBe(401);
    expect((await measure("00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000000")).status).toBe(404);
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ["/api/v1/catalog/{id}/quality", "/api/v1/catalog/{id}/variants"]) expect(doc.paths[p], p).toBeDefined();
  });

  it("the CLI refuses a malformed id or margin before touching anything", async () => {
    let err = "";
    const env = { DATABASE_URL: t.db.url };
    expect(await runCli(["catalog", "quality", "abc", "--reference", "def"], { env, err: (s) => (err += s) })).toBe(EXIT_USAGE);
    expect(err).toMatch(/<id> must be a catalog entry id/);
    const id = "00000000-0000-4000-8000-000000000000";
    expect(await runCli(["catalog", "quality", id, "--reference", id], { env: { ...env, FLEET_QUALITY_MIN_TOP1_AGREEMENT: "2" }, err: (s) => (err += s) })).toBe(EXIT_USAGE);
    expect(err).toMatch(/FLEET_QUALITY_MIN_TOP1_AGREEMENT/);
  });
});
