import { execFile } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ZGgufMetadataV1, type TGgufMetadataV1 } from "@fleet/protocol";

export type HeaderResult = { gguf: TGgufMetadataV1 | null; error: string | null };

const ZResults = z.array(z.object({ path: z.string(), gguf: ZGgufMetadataV1.nullable(), error: z.string().nullable() }));

/** The reader entry: built .js beside this file, or the .ts through tsx when running from source (tests). */
function readerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./ggufHeaderReader.js", import.meta.url));
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL("./ggufHeaderReader.ts", import.meta.url)), execArgv: ["--import", import.meta.resolve("tsx"), "--conditions=source"] };
}

/**
 * Read GGUF headers in a short-lived child process. The agent service stays small at idle (node-llama-cpp is never
 * loaded into it), and a file that makes the reader crash costs an error entry, not the agent.
 */
export async function readGgufMetadataIsolated(files: string[], timeoutMs = 60_000): Promise<Map<string, HeaderResult>> {
  const out = new Map<string, HeaderResult>();
  if (files.length === 0) return out;
  const { file, execArgv } = readerEntry();
  const failAll = (why: string) => {
    for (const f of files) out.set(f, { gguf: null, error: `GGUF header reader failed: ${why}`.slice(0, 2000) });
    return out;
  };
  const stdout = await new Promise<string | Error>((resolve) =>
    execFile(process.execPath, [...execArgv, file, ...files], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, so, se) =>
      resolve(err ? new Error(`${err.message.split("\n")[0]} ${String(se).slice(-300)}`.trim()) : so),
    ),
  );
  if (stdout instanceof Error) return failAll(stdout.message);
  let parsed: z.infer<typeof ZResults>;
  try {
    parsed = ZResults.parse(JSON.parse(stdout));
  } catch (err) {
    return failAll(`unreadable answer (${(err as Error).message.slice(0, 200)})`);
  }
  for (const r of parsed) out.set(r.path, { gguf: r.gguf, error: r.error });
  for (const f of files) if (!out.has(f)) out.set(f, { gguf: null, error: "GGUF header reader gave no answer for this file" });
  return out;
}
