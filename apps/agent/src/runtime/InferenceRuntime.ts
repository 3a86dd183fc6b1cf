import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { TRuntimeInfoV1, TGgufMetadataV1, TBenchmarkResultV1, TDeviceEventV1, TLocalApiExposureV1, TMemoryPlanV1, TModelLoadV1, TRuntimeMetricsV1 } from "@fleet/protocol";
import { SUSTAINED_DEFAULTS, ZMemoryPlanV1 } from "@fleet/protocol";
import type { BenchmarkCommand, RuntimeHooks, RuntimeState } from "./RuntimeHooks.js";
import type { RuntimeConfig } from "./config.js";
import { InferenceHostClient } from "./InferenceHostClient.js";
import {
  ZGenerationResult,
  ZGenerationWindow,
  ZHostBenchmark,
  ZHostInfo,
  ZInspectResult,
  ZLoadResult,
  ZSelfTestResult,
  type GenerationInput,
  type GenerationResult,
  type HostInfo,
  type InspectResult,
  type Sampling,
  type SelfTestResult,
} from "./host/hostProtocol.js";
import { readKnownGood, writeKnownGood } from "./knownGood.js";
import { MetricsRecorder } from "./metrics/MetricsRecorder.js";
import { RuntimeEvent } from "./RuntimeEvent.js";
import { RuntimeError } from "./errors.js";
import { findInstalledModel, listInstalledModels, type InstalledModelFile } from "./installedModels.js";
import { buildBenchmarkResult, failedBenchmark } from "./buildBenchmarkResult.js";
import { isLoopbackHost } from "../api/isLoopbackHost.js";
import { runSustained, type SustainedOptions } from "./sustained/runSustained.js";
import { MemoryPressureMonitor, type PressureMark } from "./memory/MemoryPressureMonitor.js";

export interface InferenceRuntimeOptions {
  config: RuntimeConfig;
  modelsDir: string;
  logger: Logger;
  /** model load outcomes and crashes, for the events report */
  onEvent?(event: TDeviceEventV1): void;
  /** false forces CPU (tests); default lets node-llama-cpp pick CUDA/Vulkan/Metal when present */
  gpu?: boolean;
  /** sha256 of an installed model when the agent already knows it (its hash cache); never computed here */
  sha256Of?(path: string): Promise<string | null>;
  /** <home>/known-good.json: written after every successful load, served first after a restart */
  knownGoodFile?: string;
  /** platform readings for sustained benchmarks (tests inject; default: systeminformation and ACPI) */
  sustainedReadings?: Pick<SustainedOptions, "sensors" | "power">;
  /** cap on inference threads from the resource policy at start (see setThreadsCap) */
  threadsCap?: number | null;
  /** called as a generation starts (local API); the returned function when it ends (ResourceGovernor.beginInteractive) */
  beginInteractive?(): () => void;
}

/** What the runtime knows about one installed file: its header (null = not a usable GGUF) and whether it fits. */
export interface ModelCheck {
  model: InstalledModelFile;
  gguf: TGgufMetadataV1 | null;
  plan: TMemoryPlanV1 | null;
  /** null = servable; else why this file is never tried nor offered */
  problem: string | null;
}

export type { GenerationInput };

export interface TimedGeneration extends GenerationResult {
  ttftMs: number | null;
  tpotMs: number | null;
}

export type LoadOutcome = { ok: true; load: TModelLoadV1 } | { ok: false; code: string; reason: string; plan: TMemoryPlanV1 | null };

const MAX_HOST_RESTARTS = 3;

/** Owns the inference host process, which model serves, and what is measured. Implements RuntimeHooks. */
export class InferenceRuntime implements RuntimeHooks {
  private state: RuntimeState;
  private active: InstalledModelFile | null = null;
  private activeSha: string | null = null;
  private loadProgress = 0;
  private currentLoad: string | null = null;
  private readonly metrics = new MetricsRecorder();
  private readonly pressure: MemoryPressureMonitor;
  /** start of the current request window on the serving model (reset by every load and metrics take) */
  private windowMark: PressureMark | null = null;
  private activeFits: boolean | null = null;
  private readonly host: InferenceHostClient;
  private restarts: number[] = [];
  private api: { stop(): Promise<void>; address(): { port: number } | null } | null = null;
  private stopped = false;
  private readonly checks = new Map<string, { key: string; check: ModelCheck }>();
  private checking: Promise<ModelCheck[]> | null = null;
  private threadsCap: number | null;
  /** threads the serving model runs with (as the host chose them) */
  private activeThreads: number | null = null;

  constructor(private readonly opts: InferenceRuntimeOptions) {
    this.state = opts.config.enabled ? "idle" : "disabled";
    this.threadsCap = opts.threadsCap ?? null;
    this.pressure = new MemoryPressureMonitor(opts.config.memoryPressure);
    this.host = new InferenceHostClient({ logger: opts.logger, gpu: opts.gpu ?? true, onExit: (r) => void this.onHostExit(r) });
  }

  get config(): RuntimeConfig {
    return this.opts.config;
  }

  async start(): Promise<void> {
    if (!this.opts.config.enabled) return;
    await this.host.start();
  }

  status(): { state: RuntimeState; activeModel: string | null; loadProgress: number } {
    return { state: this.state, activeModel: this.active?.id ?? null, loadProgress: this.loadProgress };
  }

  /** The request window since the last call (null when nothing happened), with the host's memory pressure over it. */
  takeMetrics(): TRuntimeMetricsV1 | null {
    const now = new Date();
    const windowStart = this.metrics.currentWindowStart;
    const metrics = this.metrics.take(now);
    const pid = this.host.pid;
    const mark = this.windowMark;
    this.windowMark = pid !== null && this.active ? this.pressure.mark(pid) : null;
    const p = mark && this.active ? this.pressure.measure(mark, pid, { scope: "window", modelId: this.active.id, sha256: this.activeSha, plannedToFit: this.activeFits }) : null;
    if (p?.heavy) this.reportPressure(p);
    if (!p || (!metrics && !p.heavy)) return metrics;
    return { ...(metrics ?? { windowStart: windowStart.toISOString(), windowEnd: now.toISOString(), models: [], loads: [] }), memoryPressure: [p] };
  }

  private reportPressure(p: NonNullable<ReturnType<MemoryPressureMonitor["measure"]>>): void {
    const fits = p.plannedToFit ? "was planned to fit but " : "";
    this.emit("warn", RuntimeEvent.MemoryPressure, `${p.modelId} ${fits}pages heavily (${p.scope}): ${p.reason}`, { model: p.modelId, sha256: p.sha256, scope: p.scope, plannedToFit: p.plannedToFit });
  }

  /** The local API now serving this runtime; stopped with it. */
  attachApi(api: { stop(): Promise<void>; address(): { port: number } | null }): void {
    this.api = api;
  }

  localApiExposure(): TLocalApiExposureV1 {
    const api = this.opts.config.api;
    const listening = this.api?.address() ?? null;
    return {
      enabled: listening !== null,
      bindAddress: api.host,
      port: listening?.port ?? api.port,
      loopbackOnly: isLoopbackHost(api.host),
      authRequired: true,
      corsAllowedOrigins: api.corsOrigins,
    };
  }

  installedModels(): Promise<InstalledModelFile[]> {
    return listInstalledModels(this.opts.modelsDir);
  }

  private emit(level: TDeviceEventV1["level"], kind: RuntimeEvent, message: string, data?: Record<string, unknown>): void {
    this.opts.logger[level]({ kind, ...data }, message);
    this.opts.onEvent?.({ at: new Date().toISOString(), level, kind, message: message.slice(0, 2000), data });
  }

  private planRequest(model: InstalledModelFile, installed: InstalledModelFile[]) {
    const c = this.opts.config;
    return {
      modelPath: model.path,
      modelId: model.id,
      contextSize: c.contextSize,
      memoryBudgetBytes: c.memoryBudgetBytes,
      headroomBytes: c.headroomBytes,
      candidates: installed.map((m) => ({ id: m.id, path: m.path })),
    };
  }

  /** pid of the inference host process, for diagnostics */
  get hostPid(): number | null {
    return this.host.pid;
  }

  /** The memory-fit plan for an installed model on this machine, without loading it. */
  async plan(name: string): Promise<TMemoryPlanV1> {
    const installed = await this.installedModels();
    const lookup = findInstalledModel(name, installed);
    if (!lookup.ok) throw new RuntimeError("model_not_found", `model ${JSON.stringify(name)} is not installed`);
    return this.host.request({ type: "plan", req: this.planRequest(lookup.model, installed) }, ZMemoryPlanV1).done;
  }

  /**
   * Every installed file with its header check and memory plan (cached per file name, size and mtime). Files
   * whose header is unreadable, that are shorter than their header says, or that do not fit are never tried
   * nor offered by the local API.
   */
  checkModels(): Promise<ModelCheck[]> {
    this.checking ??= this.runChecks().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runChecks(): Promise<ModelCheck[]> {
    const installed = await this.installedModels();
    const keyOf = (m: InstalledModelFile) => `${m.sizeBytes}:${m.mtimeMs}`;
    for (const id of this.checks.keys()) if (!installed.some((m) => m.id === id)) this.checks.delete(id);
    const stale = installed.filter((m) => this.checks.get(m.id)?.key !== keyOf(m));
    if (stale.length > 0) {
      const inspected = await this.inspect(stale.map((m) => ({ id: m.id, path: m.path })));
      for (const m of stale) {
        const r = inspected.find((x) => x.id === m.id);
        const check: ModelCheck = { model: m, gguf: r?.gguf ?? null, plan: null, problem: r?.error ?? "GGUF header was not read" };
        if (check.gguf) {
          try {
            check.plan = await this.host.request({ type: "plan", req: this.planRequest(m, []) }, ZMemoryPlanV1).done;
            check.problem = check.plan.fits ? null : (check.plan.reason ?? "does not fit in memory");
          } catch (err) {
            check.problem = `cannot plan a load: ${err instanceof Error ? err.message : String(err)}`;
          }
        }
        this.checks.set(m.id, { key: keyOf(m), check });
      }
    }
    return installed.map((m) => this.checks.get(m.id)!.check);
  }

  /** The models the local API offers: valid GGUFs that fit this machine. */
  async servableModels(): Promise<InstalledModelFile[]> {
    if (this.state === "disabled") return [];
    return (await this.checkModels()).filter((c) => c.problem === null).map((c) => c.model);
  }

  /** GGUF header facts of arbitrary files (e.g. a staged download), read in the inference host. */
  inspect(files: { id: string; path: string }[], checkLength = true): Promise<InspectResult> {
    return this.host.request({ type: "inspect", files, checkLength }, ZInspectResult).done;
  }

  /**
   * Load `file` beside the serving model, generate a few tokens and unload it: the serving model keeps serving
   * whatever happens. Throws RuntimeError (code does_not_fit, self_test_failed, ...) on failure.
   */
  selfTest(file: { id: string; path: string; sizeBytes: number }, prompt = "The capital of France is", maxTokens = 8): Promise<SelfTestResult> {
    const model: InstalledModelFile = { ...file, mtimeMs: 0 };
    return this.host.request({ type: "selftest", req: { ...this.planRequest(model, []), threads: this.opts.config.threads, maxThreads: this.threadsCap }, prompt, maxTokens }, ZSelfTestResult).done;
  }

  private async knownGood(): Promise<string | null> {
    if (!this.opts.knownGoodFile) return null;
    try {
      return (await readKnownGood(this.opts.knownGoodFile))?.model ?? null;
    } catch (err) {
      this.emit("warn", RuntimeEvent.LoadFailed, `ignoring the known-good record: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  /**
   * Choose and load the serving model: the configured one, else the last known-good, else the configured
   * fallback, else the largest valid installed model that fits. Invalid and non-fitting files are never tried.
   */
  async loadConfigured(): Promise<boolean> {
    const checks = await this.checkModels();
    const preferred = [this.opts.config.activeModel, await this.knownGood(), this.opts.config.fallbackModel].filter((m): m is string => m !== null);
    const order: string[] = [];
    for (const name of new Set(preferred)) {
      const lookup = findInstalledModel(name, checks.map((c) => c.model));
      const check = lookup.ok ? checks.find((c) => c.model.id === lookup.model.id) : undefined;
      if (!check) this.emit("warn", RuntimeEvent.LoadRefused, `${name} is not installed; not trying it`, { model: name });
      else if (check.problem !== null) this.emit("warn", RuntimeEvent.LoadRefused, `${check.model.id} is not tried: ${check.problem}`, { model: check.model.id });
      else if (!order.includes(check.model.id)) order.push(check.model.id);
    }
    const rest = checks
      .filter((c) => c.problem === null && !order.includes(c.model.id))
      .sort((a, b) => b.model.sizeBytes - a.model.sizeBytes || a.model.id.localeCompare(b.model.id));
    order.push(...rest.map((c) => c.model.id));
    if (order.length === 0) {
      this.emit("warn", RuntimeEvent.LoadFailed, `no valid model that fits is installed in ${this.opts.modelsDir}`);
      return false;
    }
    for (const [i, name] of order.entries()) {
      const outcome = await this.loadModel(name);
      if (outcome.ok) {
        if (i > 0) this.emit("warn", RuntimeEvent.FallbackServing, `serving fallback ${name} because ${order[0]} could not load`, { model: name });
        return true;
      }
    }
    return false;
  }

  /** Plan and load one model. On any failure the previously serving model (if any) keeps serving. */
  async loadModel(name: string): Promise<LoadOutcome> {
    const installed = await this.installedModels();
    const lookup = findInstalledModel(name, installed);
    if (!lookup.ok) {
      const reason = `model ${JSON.stringify(name)} is ${lookup.reason === "path" ? "a path; name an installed model" : "not installed"}`;
      this.emit("error", RuntimeEvent.LoadFailed, reason, { model: name });
      return { ok: false, code: "model_not_found", reason, plan: null };
    }
    const model = lookup.model;
    const check = (await this.checkModels().catch(() => [])).find((c) => c.model.id === model.id);
    if (check?.gguf === null) {
      const reason = `${model.id} is not a usable GGUF: ${check.problem}`;
      this.emit("error", RuntimeEvent.LoadRefused, `${reason}${this.active ? `; ${this.active.id} keeps serving` : ""}`, { model: model.id });
      return { ok: false, code: "invalid_model", reason, plan: null };
    }
    this.state = "loading";
    this.loadProgress = 0;
    const started = performance.now();
    const sha256 = (await this.opts.sha256Of?.(model.path).catch(() => null)) ?? null;
    const hostPid = this.host.pid;
    const loadMark = hostPid !== null ? this.pressure.mark(hostPid) : null;
    const req = this.host.request({ type: "load", req: { ...this.planRequest(model, installed), threads: this.opts.config.threads, maxThreads: this.threadsCap } }, ZLoadResult, {
      onProgress: (p) => (this.loadProgress = p),
    });
    this.currentLoad = req.id;
    try {
      const r = await req.done;
      this.active = model;
      this.activeSha = sha256;
      this.activeThreads = r.threads;
      this.activeFits = r.plan.fits;
      const loadPressure = loadMark ? this.pressure.measure(loadMark, this.host.pid, { scope: "load", modelId: model.id, sha256, plannedToFit: r.plan.fits }) : null;
      if (loadPressure?.heavy) this.reportPressure(loadPressure);
      // the request window of this model starts now
      this.windowMark = this.host.pid !== null ? this.pressure.mark(this.host.pid) : null;
      this.state = "ready";
      this.loadProgress = 1;
      const load: TModelLoadV1 = {
        at: new Date().toISOString(),
        modelId: model.id,
        sha256,
        ok: true,
        error: null,
        loadMs: r.loadMs,
        backend: r.backend,
        gpuLayers: r.gpuLayers,
        contextSize: r.contextSize,
        quantization: r.quantization,
        peakRssBytes: r.peakRssBytes,
        peakVramBytes: r.peakVramBytes,
        plan: r.plan,
        ...(loadPressure ? { memoryPressure: loadPressure } : {}),
      };
      this.metrics.recordLoad(load);
      if (this.opts.knownGoodFile) {
        await writeKnownGood(this.opts.knownGoodFile, { model: model.id, sha256, sizeBytes: model.sizeBytes }).catch((err: unknown) =>
          this.emit("error", RuntimeEvent.LoadFailed, `could not record ${model.id} as known-good: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
      this.emit("info", RuntimeEvent.ModelLoaded, `loaded ${model.id} (${r.backend}, ${r.gpuLayers} GPU layers, ${r.threads} threads) in ${Math.round(r.loadMs)} ms`, {
        model: model.id,
        threads: r.threads,
        threadProbe: r.threadProbe,
        placement: r.plan.placement,
      });
      return { ok: true, load };
    } catch (err) {
      const e = err instanceof RuntimeError ? err : new RuntimeError("load_failed", String(err));
      const plan = ZMemoryPlanV1.safeParse(e.details);
      this.state = this.active ? "ready" : "failed";
      this.metrics.recordLoad({
        at: new Date().toISOString(),
        modelId: model.id,
        sha256,
        ok: false,
        error: e.message.slice(0, 2000),
        loadMs: performance.now() - started,
        backend: "cpu",
        gpuLayers: 0,
        contextSize: this.opts.config.contextSize,
        quantization: null,
        peakRssBytes: 0,
        peakVramBytes: 0,
        plan: plan.success ? plan.data : null,
      });
      const kept = this.active ? `; ${this.active.id} keeps serving` : "";
      const kind = e.code === "does_not_fit" ? RuntimeEvent.LoadRefused : RuntimeEvent.LoadFailed;
      this.emit(e.code === "does_not_fit" ? "warn" : "error", kind, `${model.id} not loaded: ${e.message}${kept}`, { model: model.id, code: e.code });
      return { ok: false, code: e.code, reason: e.message, plan: plan.success ? plan.data : null };
    } finally {
      if (this.currentLoad === req.id) this.currentLoad = null;
    }
  }

  /** Threads of the serving model (null before a load), for what the agent reports it applied. */
  get servingThreads(): number | null {
    return this.activeThreads;
  }

  /**
   * The resource policy's cap on inference threads (null = none). Loads from now on honour it; a serving model
   * running with more threads than the new cap is reloaded with the cap.
   */
  async setThreadsCap(cap: number | null): Promise<void> {
    this.threadsCap = cap;
    if (cap !== null && this.active && this.activeThreads !== null && this.activeThreads > cap && this.state === "ready") {
      this.emit("info", RuntimeEvent.ModelLoaded, `reloading ${this.active.id}: the resource policy caps inference at ${cap} thread(s), it ran with ${this.activeThreads}`, { model: this.active.id, threadsCap: cap });
      await this.loadModel(this.active.id);
    }
  }

  /** Cancel the load in progress, if any; the previous model keeps serving. */
  cancelLoad(): void {
    if (this.currentLoad) this.host.cancel(this.currentLoad);
  }

  /** Run one generation on the serving model, timing it as the client sees it (TTFT, TPOT). */
  async generate(input: GenerationInput, sampling: Sampling, hooks: { onChunk?(text: string): void; signal?: AbortSignal } = {}): Promise<TimedGeneration> {
    const model = this.active;
    if (!model || this.state === "disabled") throw new RuntimeError("no_model", "no model is loaded");
    // background work pauses while a person waits for an answer
    const endInteractive = this.opts.beginInteractive?.();
    const t0 = performance.now();
    let first: number | null = null;
    let last = 0;
    const req = this.host.request({ type: "generate", input, sampling }, ZGenerationResult, {
      onChunk: (text) => {
        last = performance.now();
        first ??= last;
        hooks.onChunk?.(text);
      },
    });
    const onAbort = () => this.host.cancel(req.id);
    hooks.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const r = await req.done;
      const ttftMs = first === null ? null : first - t0;
      const tpotMs = first !== null && r.outputTokens > 1 ? (last - first) / (r.outputTokens - 1) : null;
      const error = r.finishReason === "abort";
      this.metrics.recordRequest({ modelId: model.id, sha256: this.activeSha, ttftMs, tpotMs, promptTokens: r.promptTokens, outputTokens: r.outputTokens, error });
      return { ...r, ttftMs, tpotMs };
    } catch (err) {
      this.metrics.recordRequest({ modelId: model.id, sha256: this.activeSha, ttftMs: null, tpotMs: null, promptTokens: 0, outputTokens: 0, error: true });
      throw err;
    } finally {
      hooks.signal?.removeEventListener("abort", onAbort);
      endInteractive?.();
    }
  }

  hostInfo(): Promise<HostInfo> {
    return this.host.request({ type: "info" }, ZHostInfo).done;
  }

  /** What the inventory reports as the runtime; read from the host once (it does not change while it runs). */
  runtimeInfo(): Promise<TRuntimeInfoV1 | null> {
    if (this.state === "disabled") return Promise.resolve(null);
    this.runtimeInfoCache ??= this.hostInfo().then(
      (i) => ({ nodeLlamaCpp: i.nodeLlamaCpp.slice(0, 32), llamaCppRelease: i.llamaCppRelease, backends: i.backends }),
      (err: unknown) => {
        this.runtimeInfoCache = null;
        throw err;
      },
    );
    return this.runtimeInfoCache;
  }
  private runtimeInfoCache: Promise<TRuntimeInfoV1> | null = null;

  async runBenchmark(command: BenchmarkCommand, commandId: string): Promise<TBenchmarkResultV1> {
    const at = new Date().toISOString();
    const model = this.active;
    if (!model) return failedBenchmark(commandId, at, command, "no model is loaded");
    if (command.modelId !== null && findInstalledModel(command.modelId, [model]).ok === false) {
      return failedBenchmark(commandId, at, command, `benchmarks run on the serving model (${model.id}), not ${command.modelId}`);
    }
    try {
      const info = await this.hostInfo();
      const bench = await this.host.request({ type: "benchmark", nPrompt: command.nPrompt, nGen: command.nGen, repetitions: command.repetitions }, ZHostBenchmark).done;
      const result = await buildBenchmarkResult({ commandId, at, model, sha256: this.activeSha, info, bench, command });
      if (command.mode !== "sustained") return result;
      const sustained = await runSustained({
        durationSec: command.durationSec ?? SUSTAINED_DEFAULTS.durationSec,
        sampleIntervalSec: command.sampleIntervalSec ?? SUSTAINED_DEFAULTS.sampleIntervalSec,
        throttleDropPct: command.throttleDropPct ?? SUSTAINED_DEFAULTS.throttleDropPct,
        generate: (windowMs) => this.host.request({ type: "generation-window", windowMs }, ZGenerationWindow).done,
        ...this.opts.sustainedReadings,
      });
      return { ...result, sustained };
    } catch (err) {
      return failedBenchmark(commandId, at, command, err instanceof Error ? err.message : String(err));
    }
  }

  private async onHostExit(reason: string): Promise<void> {
    if (this.stopped) return;
    const lastGood = this.active;
    this.active = null;
    this.state = "failed";
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    this.emit("error", RuntimeEvent.HostCrashed, `${reason}; ${this.restarts.length < MAX_HOST_RESTARTS ? "restarting it" : "giving up after repeated crashes"}`);
    if (this.restarts.length >= MAX_HOST_RESTARTS) return;
    this.restarts.push(now);
    try {
      await this.host.start();
      if (lastGood) await this.loadModel(lastGood.id);
      else this.state = "idle";
    } catch (err) {
      this.opts.logger.error({ err }, "inference host restart failed");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.api?.stop();
    await this.host.stop();
    if (this.state !== "disabled") this.state = "idle";
  }
}
