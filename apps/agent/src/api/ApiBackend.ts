import type { GenerationInput, TimedGeneration } from "../runtime/InferenceRuntime.js";
import type { Sampling } from "../runtime/host/hostProtocol.js";
import type { InstalledModelFile } from "../runtime/installedModels.js";
import type { RuntimeState } from "../runtime/RuntimeHooks.js";

/** What the local API needs from the runtime (InferenceRuntime implements it). */
export interface ApiBackend {
  status(): { state: RuntimeState; activeModel: string | null; loadProgress: number };
  /** valid installed models that fit this machine: the only ones the API offers */
  servableModels(): Promise<InstalledModelFile[]>;
  generate(input: GenerationInput, sampling: Sampling, hooks: { onChunk?(text: string): void; signal?: AbortSignal }): Promise<TimedGeneration>;
}
