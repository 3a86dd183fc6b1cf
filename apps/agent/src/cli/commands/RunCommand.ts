import path from "node:path";
import { Command } from "commander";
import { TrustedTargetsHashes } from "../../update/TrustedTargetsHashes.js";
import { tufMetadataDir } from "../../update/openCatalog.js";
import type { TDeviceEventV1 } from "@fleet/protocol";
import { createLogger } from "../../logger.js";
import { AgentService } from "../../reporting/AgentService.js";
import { readState } from "../../state/stateFile.js";
import { createInferenceRuntime } from "../../runtime/createInferenceRuntime.js";
import { apiTokenFromState } from "../../api/apiTokenFromState.js";
import { sha256FromHashCache } from "../../runtime/sha256FromHashCache.js";
import { HASH_CACHE_FILE } from "../../models/scanModels.js";
import { knownGoodPath } from "../../runtime/knownGood.js";
import { CatalogUpdater } from "../../update/CatalogUpdater.js";
import { ResourceGovernor } from "../../resources/ResourceGovernor.js";
import { Egress } from "../../egress/Egress.js";
import { EgressLedger } from "../../egress/EgressLedger.js";
import { DevicePolicyWatcher } from "../../policy/DevicePolicyWatcher.js";
import type { CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

/** `fleet-agent run`: the long-running service. JSON logs on stdout; SIGINT/SIGTERM stop it gracefully. */
export function runCommand(io: CliIo): Command {
  return withCommonOptions(new Command("run"))
    .description("run the agent service (reports, heartbeats, commands)")
    .action(async (flags: CommonFlags) => {
      const config = await configFromFlags(flags, io);
      const logger = createLogger({ level: config.logLevel });
      const state = await readState(config.home);
      // The one egress layer: in its own process every socket is recorded, even one opened outside a scope.
      const egress = new Egress({ ledger: EgressLedger.forHome(config.home), captureUnattributed: true });
      const policy = new DevicePolicyWatcher({
        home: config.home,
        state,
        logger,
        onRefused: (reason, detail) => onEvent({ at: new Date().toISOString(), level: "warn", kind: "policy.refused", message: `device policy refused: ${reason}`, data: { reason, detail } }),
      });
      // Local inference: its own child process; the API starts only if its exposure is safe (else it says why).
      // Its events (load failures, fallbacks, refusals) are reported to the server through the service; those
      // raised while the service starts wait here (bounded) until it can queue them.
      let started: AgentService | null = null;
      const early: TDeviceEventV1[] = [];
      const onEvent = (e: TDeviceEventV1) => {
        if (started) started.reportEvent(e);
        else if (early.length < 100) early.push(e);
      };
      // The resource policy (local config until a signed device policy replaces it): threads cap, background work.
      let runtimeRef: { setThreadsCap(cap: number | null): Promise<void> } | null = null;
      const governor = new ResourceGovernor({ config: config.resources, onEvent, onThreadsCap: (cap) => runtimeRef?.setThreadsCap(cap) });
      const runtime = await createInferenceRuntime({
        onEvent,
        threadsCap: governor.threadsCap(),
        beginInteractive: () => governor.beginInteractive(),
        config: config.runtime,
        modelsDir: config.modelsDir,
        apiToken: apiTokenFromState(config.home, state.localApiToken, { logger }),
        sha256Of: sha256FromHashCache(config.modelsDir, path.join(config.home, HASH_CACHE_FILE)),
        knownGoodFile: knownGoodPath(config.home),
        logger: logger.child({ component: "runtime" }),
      });
      runtimeRef = runtime;
      // Catalog updates need the local runtime (self-test, switch) and the trusted TUF root from enrollment.
      const serverUrl = config.serverUrl ?? state.serverUrl;
      const updater =
        config.update.enabled && config.runtime.enabled && state.catalogTrustedRoot
          ? new CatalogUpdater({ home: config.home, modelsDir: config.modelsDir, serverUrl, state, config: config.update, runtime, logger: logger.child({ component: "update" }), background: governor, egress })
          : undefined;
      if (!updater) logger.info({ trustedRoot: Boolean(state.catalogTrustedRoot), enabled: config.update.enabled }, "catalog updates are off");
      // provenance: a model is catalog-approved when its hash is a target of the TUF metadata last verified
      const approvedHashes = new TrustedTargetsHashes(tufMetadataDir(config.home));
      const service = new AgentService({ config, state, logger, runtime, updater, approvedHashes, governor, egress, policy });
      await service.start();
      started = service;
      for (const e of early.splice(0)) service.reportEvent(e);
      const signal = await (io.stopSignal ?? new Promise<string>(() => {}));
      logger.info({ signal }, "stopping");
      await service.stop();
      logger.flush();
    });
}
