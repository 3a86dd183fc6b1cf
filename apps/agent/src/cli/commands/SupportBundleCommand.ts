import { Command } from "commander";
import { silentLogger } from "../../logger.js";
import { collectSupportBundle } from "../../diagnostics/collectSupportBundle.js";
import { readStateIfEnrolled } from "../../diagnostics/readStateIfEnrolled.js";
import type { CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

interface BundleFlags extends CommonFlags {
  out?: string;
}

/** `fleet-agent support-bundle [--out <dir>]`: writes a redacted .tar.gz and prints its path. */
export function supportBundleCommand(io: CliIo): Command {
  return withCommonOptions(new Command("support-bundle"))
    .description("write a redacted archive for support (config without secrets, logs, inventory, plans, versions)")
    .option("--out <dir>", "directory for the archive (default: <home>/support)")
    .action(async (flags: BundleFlags) => {
      const config = await configFromFlags(flags, io);
      const state = await readStateIfEnrolled(config.home);
      const file = await collectSupportBundle({ config, state, outDir: flags.out, logger: silentLogger() });
      io.out(`${file}\n`);
    });
}
