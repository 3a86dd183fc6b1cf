import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { Worker } from "node:worker_threads";
import { Inject, Injectable, type OnModuleDestroy } from "@nestjs/common";
import type { Logger } from "pino";
import { CONFIG, LOGGER } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";

/** One Ed25519 check: the bytes signed, the signature, and the signer's public key (JWK `x`, base64url). */
export interface SignatureJob {
  signingInput: Uint8Array;
  signature: Uint8Array;
  x: string;
}

/** Public keys imported once per process (worker or main thread), by JWK `x`. */
const KEYS_MAX = 200_000;
/** A batch of 500 takes ~70 ms on one core; far beyond that the thread is taken as hung. */
const REPLY_TIMEOUT_MS = 30_000;

/**
 * The worker's whole program, evaluated as a CommonJS script (a string, so the same code runs from the compiled server
 * and from the TypeScript sources under test): it checks a packed batch and answers with one byte per job.
 * Request: { id, packed: ArrayBuffer, offsets: Uint32Array (start of each input; its 64-byte signature follows it),
 * xs: string[] }. Reply: { id, ok: Uint8Array } (1 = verified).
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createPublicKey, verify } = require("node:crypto");
const keys = new Map();
parentPort.on("message", ({ id, packed, offsets, xs }) => {
  const bytes = new Uint8Array(packed);
  const ok = new Uint8Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    let key = keys.get(xs[i]);
    try {
      if (!key) {
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: xs[i] }, format: "jwk" });
        if (keys.size >= ${KEYS_MAX}) keys.clear();
        keys.set(xs[i], key);
      }
      const end = offsets[i + 1] - 64;
      ok[i] = verify(null, bytes.subarray(offsets[i], end), key, bytes.subarray(end, offsets[i + 1])) ? 1 : 0;
    } catch {
      ok[i] = 0;
    }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

interface Pending {
  resolve: (ok: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface VerifierThread {
  worker: Worker;
  pending: Map<number, Pending>;
  /** jobs sent and not answered: new batches go to the least loaded thread */
  load: number;
}

/**
 * Ed25519 report signatures checked on worker threads, a batch per message: verification is most of ingest's CPU
 * (about 130 µs a signature here, OpenSSL 3.0), and on the main thread it held back every commit and ack queued
 * behind it. A batch is packed into one transferred buffer (a NATS message's bytes may be a view of a much larger
 * read buffer, which structured cloning would copy whole). With 0 threads, or while a thread is being replaced after
 * it died, the main thread verifies: a signature is never skipped and a batch never fails for want of a thread.
 */
@Injectable()
export class SignatureVerifier implements OnModuleDestroy {
  private readonly threads: (VerifierThread | null)[];
  private readonly keys = new Map<string, KeyObject>();
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;

  constructor(@Inject(CONFIG) config: ServerConfig, @Inject(LOGGER) log: Logger) {
    this.log = log.child({ context: "SignatureVerifier" });
    this.threads = Array.from({ length: config.ingestVerifyThreads }, () => null);
  }

  /** Threads verifying (0: the main thread does it all). */
  get threadCount(): number {
    return this.threads.length;
  }

  /** One verdict per job, same order. Never rejects: a failed thread's batch is verified here instead. */
  async verifyMany(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    // A signature of any length but 64 bytes is no Ed25519 signature: refused here, and the packing can rely on 64.
    const wellFormed = jobs.map((j) => j.signature.byteLength === 64);
    const checked = jobs.filter((_, i) => wellFormed[i]);
    let verdicts: boolean[];
    const thread = this.closed || !checked.length ? null : this.leastLoaded();
    if (!thread) verdicts = checked.map((j) => this.verifyHere(j));
    else {
      try {
        verdicts = Array.from(await this.onThread(thread, checked), (b) => b === 1);
      } catch (err) {
        this.log.warn({ err, jobs: checked.length }, "a verification thread failed; this batch is verified on the main thread");
        verdicts = checked.map((j) => this.verifyHere(j));
      }
    }
    let k = 0;
    return wellFormed.map((ok) => ok && verdicts[k++]!);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => (t ? this.retire(t, new Error("server shutting down")) : undefined)));
  }

  private verifyHere(job: SignatureJob): boolean {
    try {
      let key = this.keys.get(job.x);
      if (!key) {
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: job.x }, format: "jwk" });
        if (this.keys.size >= KEYS_MAX) this.keys.clear();
        this.keys.set(job.x, key);
      }
      return verify(null, job.signingInput, key, job.signature);
    } catch {
      return false; // not a valid key encoding: nothing verifies with it
    }
  }

  /** The thread with the fewest jobs in flight, started on first use (and again after it died). */
  private leastLoaded(): VerifierThread | null {
    let best: VerifierThread | null = null;
    for (let i = 0; i < this.threads.length; i++) {
      const t = (this.threads[i] ??= this.start(i));
      if (!best || t.load < best.load) best = t;
    }
    return best;
  }

  private start(slot: number): VerifierThread {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: `fleet-verify-${slot}` });
    const thread: VerifierThread = { worker, pending: new Map(), load: 0 };
    worker.on("message", ({ id, ok }: { id: number; ok: Uint8Array }) => {
      const p = thread.pending.get(id);
      thread.pending.delete(id);
      p?.resolve(ok);
    });
    worker.on("error", (err) => {
      this.log.error({ err, slot }, "verification thread failed; starting another");
      void this.retire(thread, err);
    });
    worker.on("exit", (code) => {
      if (!this.closed && this.threads[slot] === thread) {
        this.log.error({ code, slot }, "verification thread exited; starting another");
        void this.retire(thread, new Error(`verification thread exited with ${code}`));
      }
    });
    // a worker waiting for jobs must not keep the process alive
    worker.unref();
    return thread;
  }

  /** Ends a thread: its unanswered batches are verified on the main thread by their callers. */
  private async retire(thread: VerifierThread, reason: Error): Promise<void> {
    const slot = this.threads.indexOf(thread);
    if (slot >= 0) this.threads[slot] = null;
    for (const p of thread.pending.values()) p.reject(reason);
    thread.pending.clear();
    await thread.worker.terminate().catch((err: unknown) => this.log.warn({ err }, "could not terminate a verification thread"));
  }

  private onThread(thread: VerifierThread, jobs: readonly SignatureJob[]): Promise<Uint8Array> {
    const offsets = new Uint32Array(jobs.length + 1);
    let size = 0;
    jobs.forEach((j, i) => {
      offsets[i] = size;
      size += j.signingInput.byteLength + 64;
    });
    offsets[jobs.length] = size;
    const bytes = new Uint8Array(size);
    jobs.forEach((j, i) => {
      bytes.set(j.signingInput, offsets[i]);
      bytes.set(j.signature, offsets[i]! + j.signingInput.byteLength);
    });
    const id = this.nextId++;
    thread.load += jobs.length;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<Uint8Array>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      // a thread that stopped answering (never seen) is replaced rather than holding ingest forever
      timer = setTimeout(() => void this.retire(thread, new Error(`no verdicts within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      thread.worker.postMessage({ id, packed: bytes.buffer, offsets, xs: jobs.map((j) => j.x) }, [bytes.buffer]);
    }).finally(() => {
      clearTimeout(timer);
      thread.load -= jobs.length;
    });
  }
}
