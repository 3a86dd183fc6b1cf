// A CPU-bound process that stands for the person's own work: one worker thread per core doing fixed units of
// arithmetic, counting them in shared memory. The parent asks "count" over IPC and gets the running total.
import { Worker } from "node:worker_threads";
import os from "node:os";

const threads = Number(process.argv[2] ?? os.availableParallelism());
const counts = new BigInt64Array(new SharedArrayBuffer(8 * threads));
const WORK = `
const { workerData } = require("node:worker_threads");
const counts = new BigInt64Array(workerData.buf);
let x = 1;
for (;;) {
  for (let i = 0; i < 200000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  Atomics.add(counts, workerData.i, 1n);
  if (x === -1) break; // never: keeps x live
}
`;
for (let i = 0; i < threads; i++) new Worker(WORK, { eval: true, workerData: { buf: counts.buffer, i } });
process.on("message", (m) => {
  if (m === "count") {
    let total = 0n;
    for (let i = 0; i < threads; i++) total += Atomics.load(counts, i);
    process.send({ count: Number(total), at: performance.now() });
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: true, threads });
