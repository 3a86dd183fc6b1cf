import { Command } from "commander";
import { enroll } from "../../enrollment/enroll.js";
import { AlreadyEnrolledError, EnrollmentError } from "../../errors.js";
import { stateFilePath } from "../../state/stateFile.js";
import { CliExit, ExitCode, type CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

interface EnrollFlags extends CommonFlags {
  server: string;
  token: string;
  force?: boolean;
}

/** `fleet-agent enroll --server <url> --token <t> [--home <dir>] [--force]` */
export function enrollCommand(io: CliIo): Command {
  return withCommonOptions(new Command("enroll"))
    .description("register this machine with the control plane and store its identity in <home>/state.json")
    .requiredOption("--server <url>", "control plane URL, e.g. https://fleet.example.com")
    .requiredOption("--token <token>", "one-time enrollment token from the admin console")
    .option("--force", "enroll again even if this machine already has an identity")
    .action(async (flags: EnrollFlags) => {
      const config = await configFromFlags(flags, io, { serverUrl: flags.server });
      try {
        const state = await enroll({ serverUrl: config.serverUrl!, token: flags.token, home: config.home, force: flags.force });
        io.out(`enrolled as device ${state.deviceId}\nstate written to ${stateFilePath(config.home)}\n`);
      } catch (err) {
        if (err instanceof AlreadyEnrolledError) throw new CliExit(ExitCode.Failure, err.message);
        if (err instanceof EnrollmentError) {
          const status = err.httpStatus ? ` (HTTP ${err.httpStatus})` : "";
          throw new CliExit(ExitCode.Failure, `enrollment failed: ${err.code}${status}: ${err.message}`);
        }
        throw err;
      }
    });
}
