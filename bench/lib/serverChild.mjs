// The fleet server in its own process for benchmarks: config from the environment (the same parser as
// production), pino JSON on stdout, stops when the parent sends {stop: true} (so --cpu-prof is written on exit).
// BENCH_SERVER_DIST: another build of the server (a dist folder inside apps/server), for A/B comparisons.
const dist = process.env.BENCH_SERVER_DIST ?? "dist";
const { createServer, parseEnv } = await import(`../../apps/server/${dist}/app.js`);

const server = await createServer(parseEnv(process.env));
process.send({ url: server.url });
process.on("message", async (m) => {
  if (!m?.stop) return;
  await server.close();
  process.exit(0);
});
process.on("disconnect", async () => {
  await server.close().catch(() => undefined);
  process.exit(0);
});
