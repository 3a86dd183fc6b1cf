import fs from "node:fs";
import { readState, STATE_FILE } from "../state/stateFile.js";

/**
 * The local API token as state.json holds it now: `fleet-agent token rotate` rewrites the file (atomic
 * rename), a directory watch re-reads it, and the next request is checked against the new token.
 * Unreadable states keep the last good token. The watcher does not keep the process alive.
 */
export function apiTokenFromState(home: string, initial: string): () => string {
  let token = initial;
  let timer: NodeJS.Timeout | null = null;
  const reload = () => {
    timer = null;
    readState(home).then(
      (s) => void (token = s.localApiToken),
      () => undefined,
    );
  };
  try {
    const watcher = fs.watch(home, { persistent: false }, (_event, name) => {
      if (name !== null && name !== STATE_FILE) return;
      if (!timer) timer = setTimeout(reload, 50);
    });
    watcher.on("error", () => undefined);
  } catch {
    // no watch support: the token stays as it was at start; rotation then takes a restart
  }
  return () => token;
}
