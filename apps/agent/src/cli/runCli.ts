import { Command, CommanderError } from "commander";
import { NotEnrolledError, StateError } from "../errors.js";
import { AGENT_VERSION } from "../version.js";
import { CliExit, ExitCode, type CliIo } from "./CliIo.js";
import { enrollCommand } from "./commands/EnrollCommand.js";
import { runCommand } from "./commands/RunCommand.js";
import { statusCommand } from "./commands/StatusCommand.js";
import { tokenCommand } from "./commands/TokenCommand.js";
import { doctorCommand } from "./commands/DoctorCommand.js";
import { supportBundleCommand } from "./commands/SupportBundleCommand.js";

/** The commander program; other helpers add their commands (doctor, support-bundle) with program.addCommand. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("fleet-agent")
    .description("Fleetwise workstation agent")
    .version(AGENT_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  for (const cmd of [enrollCommand(io), runCommand(io), statusCommand(io), tokenCommand(io), doctorCommand(io), supportBundleCommand(io)]) program.addCommand(cmd);
  // Every command, nested ones included, reports usage errors to us instead of exiting the process.
  const strict = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
    c.commands.forEach(strict);
  };
  strict(program);
  return program;
}

/** Parse argv (without node and script), run the command, and return the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo, extend?: (program: Command) => void): Promise<number> {
  const program = buildProgram(io);
  extend?.(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end "with an error" in exitOverride mode; they are successes
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return ExitCode.Ok;
      return ExitCode.Usage;
    }
    if (err instanceof CliExit) {
      io.err(`fleet-agent: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof NotEnrolledError || err instanceof StateError) {
      io.err(`fleet-agent: ${err.message}\n`);
      return ExitCode.Failure;
    }
    io.err(`fleet-agent: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    return ExitCode.Failure;
  }
}
