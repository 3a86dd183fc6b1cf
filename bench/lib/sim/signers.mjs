// The pool of signing threads (signer.worker.mjs): device i belongs to thread i % threads, which holds its key.
import { randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";

export function startSigners(threads, seed = randomBytes(32)) {
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./signer.worker.mjs", import.meta.url), { workerData: { seed } }));
  let nextId = 0;
  const waiting = new Map();
  for (const w of workers) {
    w.on("message", (m) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) p.reject(new Error(`signing thread: ${m.error}`));
      else p.resolve(m);
    });
    w.on("error", (err) => {
      for (const p of waiting.values()) p.reject(err);
      waiting.clear();
    });
  }
  const call = (t, msg) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      workers[t].postMessage({ ...msg, id });
    });
  return {
    seed,
    threads,
    /** public JWK x of devices 0..n-1, derived and imported in chunks; progress(done, n) after each */
    async keys(n, progress = () => {}, chunk = 2000) {
      const xs = new Array(n);
      let done = 0;
      const perThread = Array.from({ length: threads }, (_, t) => Array.from({ length: Math.ceil((n - t) / threads) }, (_, k) => t + k * threads));
      await Promise.all(
        perThread.map(async (devices, t) => {
          for (let from = 0; from < devices.length; from += chunk) {
            const part = devices.slice(from, from + chunk);
            const { xs: got } = await call(t, { op: "keys", devices: part });
            part.forEach((i, k) => (xs[i] = got[k]));
            done += part.length;
            progress(done, n);
          }
        }),
      );
      return xs;
    },
    /** sign items (flat Float64Array [device, kindIndex, seq, dueEpochMs]*) on thread t: { buf, ends, msgIds } */
    sign: (t, items, kinds, wall0) => call(t, { op: "sign", items, kinds, wall0 }),
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}
