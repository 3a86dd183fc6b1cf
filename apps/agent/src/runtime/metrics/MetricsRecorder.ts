import type { TModelLoadV1, TRuntimeMetricsV1 } from "@fleet/protocol";
import { percentile } from "./percentile.js";

export interface RequestSample {
  modelId: string;
  sha256: string | null;
  /** null when the request failed before its first token */
  ttftMs: number | null;
  /** null with fewer than two output tokens */
  tpotMs: number | null;
  promptTokens: number;
  outputTokens: number;
  error: boolean;
}

interface ModelWindow {
  sha256: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  outputTokens: number;
  ttft: number[];
  tpot: number[];
}

// Per window and model; enough for stable p95s, bounded so a flood of requests cannot grow memory.
const MAX_SAMPLES = 5000;
const MAX_LOADS = 100;
const MAX_MODELS = 100;

const pair = (xs: number[]) => (xs.length ? { p50: percentile(xs, 50)!, p95: percentile(xs, 95)! } : null);

/** Counts and timings only: prompts and outputs are never recorded, so they cannot leave the device. */
export class MetricsRecorder {
  private windowStart = new Date();
  private models = new Map<string, ModelWindow>();
  private loads: TModelLoadV1[] = [];

  recordRequest(s: RequestSample): void {
    let w = this.models.get(s.modelId);
    if (!w) {
      if (this.models.size >= MAX_MODELS) return;
      w = { sha256: s.sha256, requests: 0, errors: 0, promptTokens: 0, outputTokens: 0, ttft: [], tpot: [] };
      this.models.set(s.modelId, w);
    }
    w.requests++;
    if (s.error) w.errors++;
    w.promptTokens += s.promptTokens;
    w.outputTokens += s.outputTokens;
    if (s.ttftMs !== null && w.ttft.length < MAX_SAMPLES) w.ttft.push(s.ttftMs);
    if (s.tpotMs !== null && w.tpot.length < MAX_SAMPLES) w.tpot.push(s.tpotMs);
  }

  recordLoad(load: TModelLoadV1): void {
    if (this.loads.length >= MAX_LOADS) this.loads.shift();
    this.loads.push(load);
  }

  get currentWindowStart(): Date {
    return this.windowStart;
  }

  /** The window since the previous call, or null when nothing happened in it. */
  take(now = new Date()): TRuntimeMetricsV1 | null {
    const start = this.windowStart;
    this.windowStart = now;
    if (this.models.size === 0 && this.loads.length === 0) return null;
    const models = [...this.models.entries()].map(([modelId, w]) => ({
      modelId,
      sha256: w.sha256,
      requests: w.requests,
      errors: w.errors,
      promptTokens: w.promptTokens,
      outputTokens: w.outputTokens,
      ttftMs: pair(w.ttft),
      tpotMs: pair(w.tpot),
    }));
    const loads = this.loads;
    this.models = new Map();
    this.loads = [];
    return { windowStart: start.toISOString(), windowEnd: now.toISOString(), models, loads };
  }
}
