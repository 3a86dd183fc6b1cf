import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryPressureMonitor } from "./MemoryPressureMonitor.js";
import { evaluateMemoryPressure, type PressureWindow } from "./evaluateMemoryPressure.js";
import { readProcMemory, readVmSwapCounters } from "./readProcMemory.js";

const MiB = 2 ** 20;
const thresholds = { majorFaultsPerSecAbove: 200, swapPagesPerSecAbove: 256, hostSwapBytesAbove: 64 * MiB };
const linux = process.platform === "linux";

// A real child that allocates and frees on request: what the monitor sees of it is what /proc says. "free" answers
// once the memory is back with the OS: V8 releases a large buffer's memory on a background thread after gc(), late
// on a loaded machine (the next window's peak was then still the old one).
const CHILD = `
let held = null;
const answerWhenReturned = (m) => (process.memoryUsage.rss() < 100 * 1024 * 1024 ? process.send(m) : setTimeout(answerWhenReturned, 10, m));
process.on("message", (m) => {
  if (m === "alloc") { held = Buffer.alloc(160 * 1024 * 1024, 1); }
  if (m === "free") { held = null; globalThis.gc(); return answerWhenReturned(m); }
  process.send(m);
});
process.send("ready");
`;

describe.runIf(linux)("memory pressure sampling of a real process", { timeout: 15_000 }, () => {
  let child: ChildProcess;
  const ask = (m: string) => new Promise<void>((resolve) => (child.once("message", () => resolve()), child.send(m)));
  afterAll(() => child?.kill());

  it("peak RSS per window (VmHWM reset between windows), major faults and swap counters from /proc", async () => {
    child = spawn(process.execPath, ["--expose-gc", "-e", CHILD], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    await new Promise<void>((resolve) => child.once("message", () => resolve()));
    const pid = child.pid!;
    const monitor = new MemoryPressureMonitor(thresholds);

    const m1 = monitor.mark(pid);
    await ask("alloc");
    const during = monitor.measure(m1, pid, { scope: "window", modelId: "alloc.gguf", sha256: null, plannedToFit: true })!;
    expect(during.peakRssBytes!).toBeGreaterThan(150 * MiB);
    expect(during.rssBytes!).toBeGreaterThan(150 * MiB);
    expect(during.majorFaults).not.toBeNull();
    expect(during.swapBytes).not.toBeNull();
    expect(during.swapInPages).not.toBeNull();
    expect(during.heavy).toBe(false); // this machine does not swap the child

    await ask("free");
    const m2 = monitor.mark(pid); // resets the high-water mark: the next peak is this window's
    const after = monitor.measure(m2, pid, { scope: "window", modelId: "alloc.gguf", sha256: null, plannedToFit: true })!;
    expect(after.peakRssBytes!).toBeLessThan(during.peakRssBytes! - 100 * MiB);
    // a restarted host (another pid) gives no figures rather than mixing two processes
    expect(monitor.measure(m2, pid + 1, { scope: "window", modelId: "x", sha256: null, plannedToFit: null })).toBeNull();
  });
});

describe("memory pressure verdict", () => {
  const base = (over: Partial<PressureWindow>): PressureWindow => {
    const mem = readProcMemory(process.pid);
    const swap = readVmSwapCounters();
    return { scope: "window", modelId: "m.gguf", sha256: null, plannedToFit: true, startedAt: 0, endedAt: 10_000, before: mem, after: mem, swapBefore: swap, swapAfter: swap, peakIsWindow: true, ...over };
  };

  it("a quiet window on this process is not heavy", () => {
    const p = evaluateMemoryPressure(base({}), thresholds);
    expect(p).toMatchObject({ heavy: false, windowSec: 10, plannedToFit: true });
  });

  it("major faults while serving beyond the threshold are heavy; the same faults during a load are the file being read", () => {
    const w = base({});
    const faulty = { ...w.after, majorFaults: (w.before.majorFaults ?? 0) + 5000 };
    const serving = evaluateMemoryPressure({ ...w, after: faulty }, thresholds);
    expect(serving.heavy).toBe(true);
    expect(serving.majorFaultsPerSec).toBe(500);
    expect(serving.reason).toMatch(/500 major page faults\/s while serving/);
    expect(evaluateMemoryPressure({ ...w, scope: "load", after: faulty }, thresholds).heavy).toBe(false);
  });

  it("host memory in swap beyond the threshold is heavy, with the figure in the reason", () => {
    const w = base({});
    const p = evaluateMemoryPressure({ ...w, after: { ...w.after, swapBytes: 300 * MiB } }, thresholds);
    expect(p.heavy).toBe(true);
    expect(p.reason).toMatch(/300 MiB of the inference host is swapped out/);
  });
});
