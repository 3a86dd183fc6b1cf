// Enrollment creates each device's command consumer; devices seeded straight into the database have none, so a
// fresh server's start-up check creates them (NatsIdentityService.ensureCommandConsumers): nats-server's work of
// about a minute at 50,000 devices. A benchmark waits for it before it measures, as it would not be there on a fleet
// enrolled one device at a time.

/**
 * Until the command stream holds `n` consumers (one per active device), with progress every 5 s; throws after
 * `timeoutSec`. Returns the seconds waited.
 */
export async function waitForCommandConsumers(nats, n, { progress = () => {}, timeoutSec = 600, stream = process.env.FLEET_COMMAND_STREAM ?? "FLEET_COMMANDS" } = {}) {
  // loaded here, not at the top: fleet-sim sets its NATS mode before benchServices.mjs loads the test helpers
  const { importFromServer } = await import("./benchServices.mjs");
  const { connect } = await importFromServer("nats");
  // as the fleet server's user: the benchmarks' NATS may run with per-device identity (`nats`: startInfra's nats-server)
  const nc = await connect({ ...nats.connectOptions(), name: "bench-consumer-wait" });
  const t0 = performance.now();
  try {
    const jsm = await nc.jetstreamManager();
    let lastProgress = performance.now();
    for (;;) {
      const count = (await jsm.streams.info(stream).catch(() => null))?.state.consumer_count ?? 0;
      if (count >= n) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > timeoutSec * 1000) throw new Error(`the server created ${count} of ${n} command consumers in ${timeoutSec} s`);
      if (performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        progress(`${count} of ${n} command consumers`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await nc.close();
  }
}
