import { fork } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { ZQualityWorkerMessage, type TQualityJob, type TQualityWorkerMessage } from "./quality-worker-protocol.js";

type Score = Extract<TQualityWorkerMessage, { type: "result" }>["score"];
export type QualityProgress = Extract<TQualityWorkerMessage, { type: "progress" }>;

export class QualityWorkerError extends Error {
  override name = "QualityWorkerError";
}

/** The built worker next to this file, or, when the server runs from TypeScript source (tests), the .ts through tsx. */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./quality-worker.js", import.meta.url));
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL("./quality-worker.ts", import.meta.url)), execArgv: ["--import", import.meta.resolve("tsx"), "--conditions=source"] };
}

/** Run one quality job in a child process; resolves with its score, rejects with the worker's reason. */
export function runQualityWorker(job: TQualityJob, opts: { onProgress?(p: QualityProgress): void; onLog?(line: string): void; timeoutMs: number }): Promise<Score> {
  const { file, execArgv } = workerEntry();
  const child = fork(file, [], { execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
  readline.createInterface({ input: child.stderr! }).on("line", (line) => opts.onLog?.(line.slice(0, 2000)));
  return new Promise<Score>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(() => reject(new QualityWorkerError(`quality measurement took longer than ${Math.round(opts.timeoutMs / 1000)} s and was stopped`)));
    }, opts.timeoutMs);
    child.on("message", (raw) => {
      const parsed = ZQualityWorkerMessage.safeParse(raw);
      if (!parsed.success) return finish(() => reject(new QualityWorkerError("invalid message from the quality worker")));
      const msg = parsed.data;
      if (msg.type === "progress") opts.onProgress?.(msg);
      else if (msg.type === "result") finish(() => resolve(msg.score));
      else finish(() => reject(new QualityWorkerError(msg.message)));
    });
    child.once("exit", (code, signal) => finish(() => reject(new QualityWorkerError(`quality worker exited (code ${code}, signal ${signal}) without a result`))));
    child.send(job);
  });
}
