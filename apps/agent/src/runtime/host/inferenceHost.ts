// Child process entry: owns node-llama-cpp so that loading and generation never block the agent's event
// loop, and so that a native abort (llama.cpp GGML_ASSERT on a malformed model) takes down only this process.
import fs from "node:fs";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { ZToHost, type FromHost, type HostInfo, type InspectResult, type LoadResult, type ToHost } from "./hostProtocol.js";
import { planLocalLoad } from "./planLocalLoad.js";
import { loadServingModel, type ServingModel } from "./loadServingModel.js";
import { generateText } from "./generateText.js";
import { runHostBenchmark } from "./runHostBenchmark.js";
import { runGenerationWindow } from "./runGenerationWindow.js";
import { quantizationLabel } from "./quantizationLabel.js";
import { describeHostError, HostError } from "./HostError.js";
import { runSelfTest } from "./runSelfTest.js";
import { readGgufMetadata } from "../../models/readGgufMetadata.js";

const send = (msg: FromHost) => process.send?.(msg);

let llama: Llama;
let serving: ServingModel | null = null;
let servingQuantization: string | null = null;
const controllers = new Map<string, AbortController>();
let chain: Promise<unknown> = Promise.resolve();

function nodeLlamaCppVersion(): string {
  try {
    const pkgUrl = new URL("../package.json", import.meta.resolve("node-llama-cpp"));
    return (JSON.parse(fs.readFileSync(pkgUrl, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function backends(l: Llama): HostInfo["backends"] {
  return l.gpu === false ? ["cpu"] : ["cpu", l.gpu];
}

async function info(): Promise<HostInfo> {
  const vram = await llama.getVramState();
  const release = llama.llamaCppRelease;
  const fileInfo = serving?.model.fileInfo;
  const general = fileInfo?.metadata.general as { architecture?: string; parameter_count?: number } | undefined;
  return {
    nodeLlamaCpp: nodeLlamaCppVersion(),
    llamaCpp: `${release.repo}@${release.release} (${llama.buildType})`,
    // only a llama.cpp build tag ("b6000") compares with catalog requirements; anything else is reported as unknown
    llamaCppRelease: /^b\d+$/.test(String(release.release)) ? String(release.release) : null,
    backends: backends(llama),
    gpu: String(llama.gpu),
    gpuDevices: await llama.getGpuDeviceNames(),
    cpuMathCores: llama.cpuMathCores,
    vramTotalBytes: vram.total,
    vramFreeBytes: vram.free,
    activeModel: serving?.modelId ?? null,
    activeModelInfo: serving
      ? {
          architecture: general?.architecture ?? null,
          type: serving.model.typeDescription,
          sizeBytes: serving.model.size,
          parameterCount: general?.parameter_count ?? null,
          quantization: servingQuantization,
        }
      : null,
  };
}

/** Header facts per file, or why it is not a usable GGUF (unreadable header, shorter than its header says). */
async function inspectFiles(files: { id: string; path: string }[], checkLength: boolean): Promise<InspectResult> {
  const out: InspectResult = [];
  for (const f of files) {
    try {
      out.push({ id: f.id, gguf: await readGgufMetadata(f.path, { checkLength }), error: null });
    } catch (err) {
      out.push({ id: f.id, gguf: null, error: describeHostError(err).slice(0, 2000) });
    }
  }
  return out;
}

async function handle(msg: ToHost): Promise<unknown> {
  switch (msg.type) {
    case "info":
      return info();
    case "plan":
      return (await planLocalLoad(llama, msg.req)).plan;
    case "inspect":
      return inspectFiles(msg.files, msg.checkLength);
    case "selftest": {
      const ctl = new AbortController();
      controllers.set(msg.id, ctl);
      try {
        return await runSelfTest(llama, msg, ctl.signal);
      } finally {
        controllers.delete(msg.id);
      }
    }
    case "load": {
      const ctl = new AbortController();
      controllers.set(msg.id, ctl);
      let next: ServingModel;
      let plan: LoadResult["plan"] | undefined;
      try {
        const local = await planLocalLoad(llama, msg.req);
        plan = local.plan;
        if (!plan.fits) throw new HostError("does_not_fit", plan.reason ?? "does not fit", plan);
        ctl.signal.throwIfAborted();
        next = await loadServingModel(llama, {
          modelId: msg.req.modelId,
          modelPath: msg.req.modelPath,
          contextSize: msg.req.contextSize,
          gpuLayers: local.gpuLayers,
          threads: msg.req.threads,
          maxThreads: msg.req.maxThreads,
          signal: ctl.signal,
          onProgress: (progress) => send({ type: "progress", id: msg.id, progress: Math.min(1, Math.max(0, progress)) }),
        });
        if (ctl.signal.aborted) {
          // the cancel arrived as the load finished: honour it
          await next.model.dispose();
          throw new HostError("aborted", "load cancelled");
        }
      } catch (err) {
        if (err instanceof HostError) throw err;
        if (ctl.signal.aborted) throw new HostError("aborted", "load cancelled", plan);
        throw new HostError("load_failed", describeHostError(err), plan);
      } finally {
        controllers.delete(msg.id);
      }
      // Swap only after the new model works: the previous one kept serving until now.
      const previous = serving;
      serving = next;
      servingQuantization = quantizationLabel(next.model.fileInfo.metadata.general?.file_type);
      if (previous) await previous.model.dispose();
      const vram = llama.supportsGpuOffloading ? (await llama.getVramState()).used : 0;
      const result: LoadResult = {
        modelId: next.modelId,
        loadMs: next.loadMs,
        backend: next.model.gpuLayers > 0 && llama.gpu !== false ? llama.gpu : "cpu",
        gpuLayers: next.model.gpuLayers,
        contextSize: next.context.contextSize,
        // what node-llama-cpp's context really runs with (the policy cap is checked against this)
        threads: next.context.currentThreads,
        threadProbe: next.threadProbe,
        quantization: servingQuantization,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        peakVramBytes: vram,
        plan: plan!,
      };
      return result;
    }
    case "generate": {
      if (!serving) throw new HostError("no_model", "no model is loaded");
      const ctl = new AbortController();
      controllers.set(msg.id, ctl);
      try {
        return await generateText(serving, msg.input, msg.sampling, ctl.signal, (text) => send({ type: "chunk", id: msg.id, text }));
      } catch (err) {
        throw new HostError("generation_failed", describeHostError(err));
      } finally {
        controllers.delete(msg.id);
      }
    }
    case "benchmark":
      if (!serving) throw new HostError("no_model", "no model is loaded");
      return runHostBenchmark(llama, serving, msg);
    case "generation-window":
      if (!serving) throw new HostError("no_model", "no model is loaded");
      return runGenerationWindow(serving, msg.windowMs);
    case "cancel":
      return null;
  }
}

function onMessage(raw: unknown): void {
  try {
    dispatch(raw);
  } catch (err) {
    process.stderr.write(`inference host could not dispatch a message: ${describeHostError(err)}\n`);
  }
}

function dispatch(raw: unknown): void {
  const parsed = ZToHost.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === "string" ? (raw as { id: string }).id : "?";
    send({ type: "error", id, code: "bad_message", message: parsed.error.message.slice(0, 500) });
    return;
  }
  const msg = parsed.data;
  if (msg.type === "cancel") {
    // not queued: it must reach a load or generation that is running now (or waiting in the chain)
    controllers.get(msg.id)?.abort();
    cancelled.add(msg.id);
    return;
  }
  chain = chain.then(async () => {
    if (cancelled.delete(msg.id)) return send({ type: "error", id: msg.id, code: "aborted", message: "cancelled before it started" });
    try {
      send({ type: "result", id: msg.id, value: await handle(msg) });
    } catch (err) {
      const e = err instanceof HostError ? err : new HostError("internal", describeHostError(err));
      send({ type: "error", id: msg.id, code: e.code, message: e.message.slice(0, 2000), details: e.details });
    } finally {
      cancelled.delete(msg.id);
    }
  });
}
const cancelled = new Set<string>();

async function main(): Promise<void> {
  llama = await getLlama({
    // the parent passes --gpu=false to force CPU (tests, machines with broken drivers)
    gpu: process.argv.includes("--gpu=false") ? false : "auto",
    build: "never",
    logLevel: LlamaLogLevel.error,
    logger: (level, message) => process.stderr.write(`[llama ${level}] ${message}\n`),
  });
  process.on("message", onMessage);
  process.on("disconnect", () => process.exit(0));
  // The agent stops this host (the channel closing, above), after its own shutdown steps; a dead agent closes the
  // channel too. A terminal's Ctrl-C or a service manager's SIGTERM reaches the whole process group at once: exiting
  // on it, the host looked crashed to an agent still stopping, which restarted it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
  send({ type: "ready" });
}

main().catch((err) => {
  process.stderr.write(`inference host failed to start: ${describeHostError(err)}\n`);
  process.exit(1);
});
