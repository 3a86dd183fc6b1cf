import { generateKeyPairSync, sign } from "node:crypto";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerConfig } from "../common/env.js";
import { SignatureVerifier, type SignatureJob } from "./signature-verifier.js";

const log = pino({ level: "silent" });
const verifiers: SignatureVerifier[] = [];
const verifier = (threads: number) => {
  const v = new SignatureVerifier({ ingestVerifyThreads: threads } as ServerConfig, log);
  verifiers.push(v);
  return v;
};
afterEach(async () => {
  await Promise.all(verifiers.splice(0).map((v) => v.onModuleDestroy()));
});

function device() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { x: publicKey.export({ format: "jwk" }).x!, sign: (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)) };
}

/** A mix with known answers: good signatures, tampered inputs, another device's signature, malformed ones. */
function mixedJobs(): { jobs: SignatureJob[]; expected: boolean[] } {
  const a = device();
  const b = device();
  const jobs: SignatureJob[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < 300; i++) {
    // a view into a larger buffer, as a NATS message's bytes can be
    const big = new TextEncoder().encode(`padding-${i}|header.payload-${i}-${"x".repeat(i)}|more`);
    const input = big.subarray(big.indexOf(124) + 1, big.lastIndexOf(124));
    const signer = i % 2 ? a : b;
    const sig = signer.sign(input);
    switch (i % 6) {
      case 0: {
        const tampered = input.slice();
        tampered[0]! ^= 1;
        jobs.push({ signingInput: tampered, signature: sig, x: signer.x });
        expected.push(false);
        break;
      }
      case 1:
        jobs.push({ signingInput: input, signature: sig, x: (signer === a ? b : a).x });
        expected.push(false);
        break;
      case 2:
        jobs.push({ signingInput: input, signature: sig.subarray(0, 63), x: signer.x });
        expected.push(false);
        break;
      case 3:
        jobs.push({ signingInput: input, signature: sig, x: "not-a-key" });
        expected.push(false);
        break;
      default:
        jobs.push({ signingInput: input, signature: sig, x: signer.x });
        expected.push(true);
    }
  }
  return { jobs, expected };
}

describe("SignatureVerifier", () => {
  it("gives the same verdicts on worker threads as on the main thread, in order", async () => {
    const { jobs, expected } = mixedJobs();
    expect(await verifier(0).verifyMany(jobs)).toEqual(expected);
    const threaded = verifier(2);
    expect(threaded.threadCount).toBe(2);
    // several batches at once, spread over both threads
    const results = await Promise.all([0, 100, 200].map((from) => threaded.verifyMany(jobs.slice(from, from + 100))));
    expect(results.flat()).toEqual(expected);
    expect(await threaded.verifyMany([])).toEqual([]);
  });

  it("a thread that dies mid-batch costs nothing: its batch is verified on the main thread, and a new thread serves the next", async () => {
    const { jobs, expected } = mixedJobs();
    const v = verifier(1);
    expect(await v.verifyMany(jobs.slice(0, 10))).toEqual(expected.slice(0, 10));
    // what a crash of the thread looks like from here: it exits with batches unanswered
    const thread = (v as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!;
    const during = v.verifyMany(jobs);
    await thread.worker.terminate();
    expect(await during).toEqual(expected);
    expect(await v.verifyMany(jobs)).toEqual(expected);
    expect((v as unknown as { threads: unknown[] }).threads[0]).not.toBe(thread);
  });
});
