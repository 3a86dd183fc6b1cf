import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { formatIssues } from "@fleet/protocol";
import { NotEnrolledError, StateError } from "../errors.js";
import { writeFileAtomic } from "../util/writeFileAtomic.js";
import { ZAgentState, type AgentState } from "./ZAgentState.js";

export const STATE_FILE = "state.json";

export function stateFilePath(home: string): string {
  return path.join(home, STATE_FILE);
}

/** Create the home dir owner-only (0700); tightens an existing one, since it holds the private key. */
export async function ensureHome(home: string): Promise<void> {
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  await fs.chmod(home, 0o700);
}

export async function stateExists(home: string): Promise<boolean> {
  return fs.access(stateFilePath(home)).then(
    () => true,
    () => false,
  );
}

/** Read and validate state.json; NotEnrolledError when there is none. */
export async function readState(home: string): Promise<AgentState> {
  const file = stateFilePath(home);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotEnrolledError(`not enrolled: ${file} does not exist (run "fleet-agent enroll")`);
    }
    throw new StateError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${file} is not valid JSON`, { cause: err });
  }
  const parsed = ZAgentState.safeParse(json);
  if (!parsed.success) throw new StateError(`${file} is invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Atomically write state.json with mode 0600 inside a 0700 home. */
export async function writeState(home: string, state: AgentState): Promise<void> {
  await ensureHome(home);
  const valid = ZAgentState.parse(state);
  await writeFileAtomic(stateFilePath(home), JSON.stringify(valid, null, 2) + "\n", { mode: 0o600 });
}

/** 32 random bytes, base64url: the local API bearer token. */
export function newLocalApiToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Replace the local API token and return the new one; the old one stops working once the runtime re-reads state. */
export async function rotateLocalApiToken(home: string): Promise<string> {
  const state = await readState(home);
  const token = newLocalApiToken();
  await writeState(home, { ...state, localApiToken: token });
  return token;
}
