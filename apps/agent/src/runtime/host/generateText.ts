import { LlamaChat, LlamaCompletion, type ChatHistoryItem, type Token } from "node-llama-cpp";
import type { ChatMessage, GenerationInput, GenerationResult, Sampling } from "./hostProtocol.js";
import type { ServingModel } from "./loadServingModel.js";


function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === "system" ? { type: "system", text: m.content } : m.role === "user" ? { type: "user", text: m.content } : { type: "model", response: [m.content] },
  );
  // LlamaChat continues the last model turn: add an empty one to answer in
  history.push({ type: "model", response: [] });
  return history;
}

function finishReason(stopReason: string): GenerationResult["finishReason"] {
  if (stopReason === "maxTokens") return "length";
  if (stopReason === "abort") return "abort";
  return "stop";
}

/** One generation on the serving context's single sequence; the host runs them one at a time. */
export async function generateText(
  serving: ServingModel,
  input: GenerationInput,
  sampling: Sampling,
  signal: AbortSignal,
  onChunk: (text: string) => void,
): Promise<GenerationResult> {
  const sequence = serving.context.getSequence();
  let outputTokens = 0;
  const onToken = (tokens: Token[]) => {
    outputTokens += tokens.length;
  };
  const common = {
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topP: sampling.topP,
    seed: sampling.seed,
    customStopTriggers: sampling.stop,
    signal,
    stopOnAbortSignal: true,
    onTextChunk: onChunk,
    onToken,
  };
  try {
    if (input.kind === "completion") {
      const promptTokens = serving.model.tokenize(input.prompt).length;
      const completion = new LlamaCompletion({ contextSequence: sequence });
      const res = await completion.generateCompletionWithMeta(input.prompt, common);
      return { promptTokens, outputTokens, finishReason: finishReason(res.metadata.stopReason), text: res.response };
    }
    const chat = new LlamaChat({ contextSequence: sequence });
    const history = toHistory(input.messages);
    const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(serving.model.tokenizer).length;
    const res = await chat.generateResponse(history, common);
    chat.dispose({ disposeSequence: false });
    return { promptTokens, outputTokens, finishReason: finishReason(res.metadata.stopReason), text: res.response };
  } finally {
    // awaited: the context has a single sequence, and the next generation needs it released
    await sequence.dispose();
  }
}
