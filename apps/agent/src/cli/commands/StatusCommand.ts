import path from "node:path";
import { redactNatsUrl } from "@fleet/protocol";
import { Command } from "commander";
import { HASH_CACHE_FILE } from "../../models/scanModels.js";
import { listKnownModels } from "../../models/listKnownModels.js";
import { DiskQueue } from "../../queue/DiskQueue.js";
import { agentNatsIdentity } from "../../reporting/agentNatsOptions.js";
import { probeNats } from "../../reporting/probeNats.js";
import { readState } from "../../state/stateFile.js";
import type { CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

interface StatusFlags extends CommonFlags {
  json?: boolean;
}

/** `fleet-agent status [--json]`: identity, connectivity, queue depth and installed models. Never hashes anything. */
export function statusCommand(io: CliIo): Command {
  return withCommonOptions(new Command("status"))
    .description("show this agent's identity, NATS connectivity, queued reports and models")
    .option("--json", "print JSON instead of text")
    .action(async (flags: StatusFlags) => {
      const config = await configFromFlags(flags, io);
      const state = await readState(config.home);
      const natsUrl = config.natsUrl ?? state.natsUrl;
      const [nats, queue, models] = await Promise.all([
        natsUrl ? probeNats(natsUrl, undefined, agentNatsIdentity(state)) : Promise.resolve({ reachable: false, error: "no NATS URL configured", rttMs: null }),
        DiskQueue.inspect(path.join(config.home, "queue")),
        listKnownModels(config.modelsDir, path.join(config.home, HASH_CACHE_FILE)),
      ]);
      const status = {
        deviceId: state.deviceId,
        home: config.home,
        serverUrl: config.serverUrl ?? state.serverUrl,
        nats: { url: natsUrl && redactNatsUrl(natsUrl), ...nats },
        queue,
        modelsDir: config.modelsDir,
        models,
      };
      if (flags.json) {
        io.out(JSON.stringify(status, null, 2) + "\n");
        return;
      }
      const lines = [
        `device:     ${status.deviceId}`,
        `server:     ${status.serverUrl}`,
        `nats:       ${natsUrl ? redactNatsUrl(natsUrl) : "(none)"} ${nats.reachable ? `reachable (rtt ${nats.rttMs} ms)` : `UNREACHABLE: ${nats.error}`}`,
        `queue:      ${queue.depth} report(s) waiting, ${queue.bytes} bytes`,
        `models dir: ${config.modelsDir} (${models.length} model(s))`,
        ...models.map(
          (m) =>
            `  ${m.sha256 ? m.sha256.slice(0, 12) : "(not hashed)"}  ${path.relative(config.modelsDir, m.path)}  ${m.architecture ?? "?"} ${m.quantization ?? ""}${m.error ? `  error: ${m.error}` : ""}`,
        ),
      ];
      io.out(lines.join("\n") + "\n");
    });
}
