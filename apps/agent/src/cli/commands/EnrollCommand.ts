import { readFile } from "node:fs/promises";
import { Egress } from "../../egress/Egress.js";
import { EgressLedger } from "../../egress/EgressLedger.js";
import { Command, InvalidArgumentError } from "commander";
import { ZServerKeySha256 } from "@fleet/protocol";
import { enroll } from "../../enrollment/enroll.js";
import { AlreadyEnrolledError, EnrollmentError } from "../../errors.js";
import { stateFilePath } from "../../state/stateFile.js";
import { CliExit, ExitCode, type CliIo } from "../CliIo.js";
import { configFromFlags, withCommonOptions, type CommonFlags } from "../commonOptions.js";

interface EnrollFlags extends CommonFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  serverKeySha256?: string;
  force?: boolean;
}

/** An enrollment token is a short single line; anything bigger is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** `fleet-agent enroll --server <url> (--token-file <path|-> | --token <t>) [--server-key-sha256 <pin>] [--home <dir>] [--force]` */
export function enrollCommand(io: CliIo): Command {
  return withCommonOptions(new Command("enroll"))
    .description("register this machine with the control plane and store its identity in <home>/state.json")
    .requiredOption("--server <url>", "control plane URL: https://… (plain http only to loopback), e.g. https://fleet.example.com")
    .option("--token-file <path>", "read the one-time enrollment token from this file, or from standard input with '-'")
    .option("--token <token>", "the one-time enrollment token on the command line (visible to every local user in `ps`: prefer --token-file)")
    .option("--server-key-sha256 <thumbprint>", "pin: refuse a server whose key has another thumbprint (printed by `fleet-server token create`)", parsePin)
    .option("--force", "enroll again even if this machine already has an identity")
    .action(async (flags: EnrollFlags) => {
      const config = await configFromFlags(flags, io, { serverUrl: flags.server });
      const token = await readToken(flags, io);
      try {
        // enrollment is the agent's first way out: its socket goes in the outbound ledger the service reports
        const egress = new Egress({ ledger: EgressLedger.forHome(config.home) });
        const state = await enroll({ serverUrl: config.serverUrl!, token, home: config.home, force: flags.force, serverKeySha256: flags.serverKeySha256, fetch: egress.fetch("enrollment") }).finally(() => egress.close());
        await egress.ledger.persist();
        io.out(`enrolled as device ${state.deviceId}\nstate written to ${stateFilePath(config.home)}\n`);
        if (!flags.serverKeySha256) io.err("note: the server's key was not pinned (--server-key-sha256); this enrollment trusted whichever server answered\n");
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

function parsePin(value: string): string {
  const parsed = ZServerKeySha256.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError("must be the 43-character base64url SHA-256 thumbprint printed by `fleet-server token create`");
  return parsed.data;
}

async function readToken(flags: EnrollFlags, io: CliIo): Promise<string> {
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new CliExit(ExitCode.Usage, "give either --token-file or --token, not both");
  if (flags.token !== undefined) {
    io.err("warning: --token puts the enrollment token in the process list (ps) and shell history; prefer --token-file <path> or --token-file -\n");
    return flags.token;
  }
  if (flags.tokenFile === undefined) throw new CliExit(ExitCode.Usage, "an enrollment token is required: --token-file <path> (or - for standard input)");
  const source = flags.tokenFile === "-" ? "standard input" : flags.tokenFile;
  let raw: Buffer;
  try {
    raw = flags.tokenFile === "-" ? await readAll(io.stdin ?? process.stdin) : await readFile(flags.tokenFile);
  } catch (err) {
    if (err instanceof CliExit) throw err;
    throw new CliExit(ExitCode.Usage, `cannot read the enrollment token from ${source}: ${(err as Error).message}`);
  }
  if (raw.length > MAX_TOKEN_FILE_BYTES) throw new CliExit(ExitCode.Usage, `${source} holds ${raw.length} bytes: not an enrollment token (at most ${MAX_TOKEN_FILE_BYTES})`);
  const token = raw.toString("utf8").trim();
  if (!token) throw new CliExit(ExitCode.Usage, `${source} is empty: expected the enrollment token`);
  if (/\s/.test(token)) throw new CliExit(ExitCode.Usage, `${source} holds more than one line or word: expected only the enrollment token`);
  return token;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += b.length;
    // stop reading early: the size check in readToken refuses it
    if (size > MAX_TOKEN_FILE_BYTES) return Buffer.concat([...chunks, b]);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
