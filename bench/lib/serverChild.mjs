// The fleet server in its own process for benchmarks: config from the environment (the same parser as
// production), pino JSON on stdout, stops when the parent sends {stop: true} (so --cpu-prof is written on exit);
// {profile: "start" | "stop"} profiles a window only.
// BENCH_SERVER_DIST: another build of the server (a dist folder inside apps/server), for A/B comparisons.
const dist = process.env.BENCH_SERVER_DIST ?? "dist";
const { createServer, parseEnv } = await import(`../../apps/server/${dist}/app.js`);

const server = await createServer(parseEnv(process.env));
process.send({ url: server.url });
let profiler = null;
process.on("message", async (m) => {
  // {profile: "start"} / {profile: "stop", file}: a CPU profile of just the measured window (answers {profiled: file})
  if (m?.profile === "start") {
    const { Session } = await import("node:inspector/promises");
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
    process.send({ profiling: true });
    return;
  }
  if (m?.profile === "stop" && profiler) {
    const { profile } = await profiler.post("Profiler.stop");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(m.file, JSON.stringify(profile));
    profiler.disconnect();
    profiler = null;
    process.send({ profiled: m.file });
    return;
  }
  if (!m?.stop) return;
  await server.close();
  process.exit(0);
});
process.on("disconnect", async () => {
  await server.close().catch(() => undefined);
  process.exit(0);
});
