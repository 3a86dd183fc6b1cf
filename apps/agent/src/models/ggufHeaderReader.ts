// Child-process entry: read the GGUF headers of the files named on the command line and print one JSON array
// of { path, gguf, error }. Run by readGgufMetadataIsolated so node-llama-cpp's memory (and any abort inside it
// on a hostile file) stays out of the agent service.
import { readGgufMetadata } from "./readGgufMetadata.js";

const results = [];
for (const file of process.argv.slice(2)) {
  try {
    results.push({ path: file, gguf: await readGgufMetadata(file), error: null });
  } catch (err) {
    results.push({ path: file, gguf: null, error: (err instanceof Error ? err.message : String(err)).slice(0, 2000) });
  }
}
process.stdout.write(JSON.stringify(results));
