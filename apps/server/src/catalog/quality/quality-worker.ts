import fs from "node:fs/promises";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { evaluateModel, scoreAgainst } from "./measure-quality.js";
import { ZQualityJob, type TQualityWorkerMessage } from "./quality-worker-protocol.js";

// Child process entry: receives one job over IPC, evaluates the reference then the candidate (one model in memory
// at a time), reports progress and one result or error, then exits.

const send = (msg: TQualityWorkerMessage) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));

async function run(raw: unknown): Promise<void> {
  const job = ZQualityJob.parse(raw);
  const text = await fs.readFile(job.textPath, "utf8");
  const llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: job.settings.threads,
    logLevel: LlamaLogLevel.error,
    logger: (level, message) => process.stderr.write(`[llama ${level}] ${message}\n`),
  });
  let last = 0;
  const progress = (phase: "reference" | "candidate") => (done: number, total: number) => {
    const now = Date.now();
    if (now - last < 250 && done < total) return;
    last = now;
    void send({ type: "progress", phase, done, total });
  };
  const reference = job.referencePath === null ? null : await evaluateModel(llama, job.referencePath, text, job.settings, progress("reference"));
  const candidate = await evaluateModel(llama, job.candidatePath, text, job.settings, progress("candidate"));
  await send({ type: "result", score: scoreAgainst(candidate, reference ?? candidate) });
}

process.once("message", (raw) => {
  run(raw).then(
    () => process.exit(0),
    async (err: unknown) => {
      await send({ type: "error", message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );
});
process.on("disconnect", () => process.exit(0));
