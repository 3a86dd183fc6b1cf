import fs from "node:fs";
import { silentLogger, type Logger } from "../logger.js";
import { readState, STATE_FILE, stateFilePath } from "../state/stateFile.js";
import { describeError } from "../util/describeError.js";

export interface ApiTokenFromStateOptions {
  logger?: Logger;
  /** the stat poll that backs up the directory watch (default 5 s) */
  pollMs?: number;
}

/**
 * The local API token as state.json holds it now: `fleet-agent token rotate` rewrites the file (atomic
 * rename), and the next request is checked against the new token. A directory watch notices at once; a stat
 * poll backs it up, because a watch can fail (inotify limits), or silently watch a directory that was replaced.
 * A watch failure and an unreadable state are logged; the last good token stays. Neither keeps the process alive.
 */
export function apiTokenFromState(home: string, initial: string, opts: ApiTokenFromStateOptions = {}): () => string {
  const log = (opts.logger ?? silentLogger()).child({ component: "apiTokenFromState" });
  let token = initial;
  let timer: NodeJS.Timeout | null = null;
  let lastError: string | null = null;
  const reload = () => {
    timer = null;
    readState(home).then(
      (s) => {
        if (s.localApiToken !== token) log.info("local API token reloaded from state.json");
        token = s.localApiToken;
        if (lastError) log.info("state.json is readable again");
        lastError = null;
      },
      (err: unknown) => {
        const msg = describeError(err);
        // once per distinct failure: a rotation in progress must not flood the log
        if (msg !== lastError) log.warn({ err: msg }, "cannot re-read state.json; the local API keeps the previous token");
        lastError = msg;
      },
    );
  };
  const schedule = () => {
    if (!timer) timer = setTimeout(reload, 50);
  };

  fs.watchFile(stateFilePath(home), { persistent: false, interval: opts.pollMs ?? 5_000 }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino) schedule();
  });
  try {
    const watcher = fs.watch(home, { persistent: false }, (_event, name) => {
      if (name !== null && name !== STATE_FILE) return;
      schedule();
    });
    watcher.on("error", (err) => {
      log.error({ err: describeError(err) }, "the state directory watch failed; token rotation is picked up by polling only");
      watcher.close();
    });
  } catch (err) {
    log.error({ err: describeError(err) }, "cannot watch the state directory; token rotation is picked up by polling only");
  }
  return () => token;
}
