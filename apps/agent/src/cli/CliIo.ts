/** Where the CLI writes; tests pass buffers, main.ts passes the process streams. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** environment for config loading; defaults to process.env in main.ts */
  env: Record<string, string | undefined>;
  /** read by `enroll --token-file -`; defaults to process.stdin */
  stdin?: NodeJS.ReadableStream;
  /** used by `run`: resolves when the process is asked to stop */
  stopSignal?: Promise<string>;
}

/** Exit codes: 0 ok, 1 failure, 2 usage (bad flags, bad configuration). */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** Thrown by command actions to end with a given exit code and message. */
export class CliExit extends Error {
  override name = "CliExit";
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
