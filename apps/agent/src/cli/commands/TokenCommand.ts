import { Command } from "commander";
import { rotateLocalApiToken } from "../../state/stateFile.js";
import type { CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

/** `fleet-agent token rotate`: new local API bearer token in state.json, printed once. */
export function tokenCommand(io: CliIo): Command {
  const token = new Command("token").description("manage the local inference API token");
  token.addCommand(
    withCommonOptions(new Command("rotate"))
      .description("replace the local API bearer token (restart the agent for the runtime to use it)")
      .action(async (flags: CommonFlags) => {
        const config = await configFromFlags(flags, io);
        const value = await rotateLocalApiToken(config.home);
        io.out(`${value}\n`);
      }),
  );
  return token;
}
