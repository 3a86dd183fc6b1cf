import { Command } from "commander";
import { silentLogger } from "../../logger.js";
import { collectDoctorReport } from "../../diagnostics/collectDoctorReport.js";
import { formatDoctorReport } from "../../diagnostics/formatDoctorReport.js";
import { readStateIfEnrolled } from "../../diagnostics/readStateIfEnrolled.js";
import type { CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

interface DoctorFlags extends CommonFlags {
  json?: boolean;
}

/** `fleet-agent doctor [--json]`: capabilities, RAM/VRAM, the memory-fit plan per installed model, API exposure. */
export function doctorCommand(io: CliIo): Command {
  return withCommonOptions(new Command("doctor"))
    .description("check what this machine can run: backends, memory, a plan per installed model, local API exposure")
    .option("--json", "print JSON instead of text")
    .action(async (flags: DoctorFlags) => {
      const config = await configFromFlags(flags, io);
      const state = await readStateIfEnrolled(config.home);
      const report = await collectDoctorReport(config, state?.localApiToken ?? null, silentLogger());
      io.out(flags.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctorReport(report));
    });
}
