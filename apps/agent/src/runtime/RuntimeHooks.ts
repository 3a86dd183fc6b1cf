import type { TRuntimeInfoV1, TBenchmarkResultV1, TLocalApiExposureV1, TRuntimeMetricsV1, TCommandBodyV1 } from "@fleet/protocol";

export type BenchmarkCommand = Extract<TCommandBodyV1, { type: "benchmark" }>;
export type RuntimeState = "disabled" | "idle" | "loading" | "ready" | "failed";

/**
 * What the reporting service needs from the local inference runtime. The service never waits on
 * inference: every method here returns at once except runBenchmark, which the service does not await
 * on its reporting path.
 */
export interface RuntimeHooks {
  status(): { state: RuntimeState; activeModel: string | null };
  /** aggregated request and load stats since the previous call; null when nothing happened */
  takeMetrics(): TRuntimeMetricsV1 | null;
  runBenchmark(command: BenchmarkCommand, commandId: string): Promise<TBenchmarkResultV1>;
  /** how the local inference API is exposed, for the privacy posture report */
  localApiExposure(): TLocalApiExposureV1;
  stop(): Promise<void>;
  /** node-llama-cpp / llama.cpp / backends, as the inference host reports them (for inventory.runtime) */
  runtimeInfo?(): Promise<TRuntimeInfoV1 | null>;
}
