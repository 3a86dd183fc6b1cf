import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import readline from "node:readline";
import type { z } from "zod";
import type { Logger } from "pino";
import { ZFromHost, type ToHost } from "./host/hostProtocol.js";
import { HostCrashedError, RuntimeError } from "./errors.js";
import { resolveHostEntry } from "./resolveHostEntry.js";

type Outgoing = ToHost extends infer T ? (T extends { id: string } ? Omit<T, "id"> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onChunk?(text: string): void;
  onProgress?(progress: number): void;
}

export interface HostRequest<T> {
  id: string;
  done: Promise<T>;
}

/** The agent's side of the inference host: one child process, request/response over IPC, crash detection. */
export class InferenceHostClient {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly opts: { logger: Logger; gpu: boolean; onExit(reason: string): void },
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<void> {
    const { file, execArgv } = resolveHostEntry();
    const child = fork(file, this.opts.gpu ? [] : ["--gpu=false"], { execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
    this.child = child;
    readline.createInterface({ input: child.stderr! }).on("line", (line) => this.opts.logger.warn({ host: line.slice(0, 2000) }, "inference host"));
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new HostCrashedError(`inference host exited during start (code ${code})`));
      child.once("exit", onExit);
      child.on("message", (raw) => {
        const parsed = ZFromHost.safeParse(raw);
        if (!parsed.success) return this.opts.logger.error({ issues: parsed.error.issues.slice(0, 3) }, "invalid message from inference host");
        const msg = parsed.data;
        if (msg.type === "ready") {
          child.off("exit", onExit);
          child.once("exit", (code, signal) => this.onChildExit(child, code, signal));
          return resolve();
        }
        const p = this.pending.get(msg.id);
        if (!p) return;
        if (msg.type === "chunk") p.onChunk?.(msg.text);
        else if (msg.type === "progress") p.onProgress?.(msg.progress);
        else {
          this.pending.delete(msg.id);
          if (msg.type === "result") p.resolve(msg.value);
          else p.reject(new RuntimeError(msg.code, msg.message, msg.details));
        }
      });
    });
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.child = null;
    const reason = `inference host exited (code ${code}, signal ${signal})`;
    for (const p of this.pending.values()) p.reject(new HostCrashedError(reason));
    this.pending.clear();
    this.opts.onExit(reason);
  }

  /** Send a request; the result is validated against `schema` before it reaches the caller. */
  request<S extends z.ZodType>(
    msg: Outgoing,
    schema: S,
    hooks: { onChunk?(text: string): void; onProgress?(progress: number): void } = {},
  ): HostRequest<z.infer<S>> {
    const id = randomUUID();
    const done = new Promise<z.infer<S>>((resolve, reject) => {
      if (!this.child?.connected) return reject(new HostCrashedError("inference host is not running"));
      this.pending.set(id, {
        resolve: (value) => {
          const parsed = schema.safeParse(value);
          if (parsed.success) resolve(parsed.data);
          else reject(new RuntimeError("bad_host_reply", `inference host sent an invalid ${msg.type} result`));
        },
        reject,
        ...hooks,
      });
      this.child.send({ ...msg, id });
    });
    return { id, done };
  }

  cancel(id: string): void {
    if (this.child?.connected) this.child.send({ type: "cancel", id });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    for (const p of this.pending.values()) p.reject(new RuntimeError("stopped", "runtime stopped"));
    this.pending.clear();
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.disconnect?.();
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}
