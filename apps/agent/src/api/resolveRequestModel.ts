import { ErrorCode } from "@fleet/protocol";
import { findInstalledModel } from "../runtime/installedModels.js";
import type { ApiBackend } from "./ApiBackend.js";
import { HttpError } from "./HttpError.js";

/** The request's model must be an installed model's name, and the one being served. */
export async function resolveRequestModel(backend: ApiBackend, name: string): Promise<string> {
  const lookup = findInstalledModel(name, await backend.servableModels());
  if (!lookup.ok && lookup.reason === "path") {
    throw new HttpError(400, ErrorCode.ValidationFailed, "model must be the name of an installed model (see GET /v1/models), not a file path");
  }
  if (!lookup.ok) throw new HttpError(404, ErrorCode.NotFound, `model ${JSON.stringify(name)} is not installed (see GET /v1/models)`);
  const status = backend.status();
  if (status.activeModel !== lookup.model.id) {
    const serving = status.activeModel ? `; ${status.activeModel} is being served` : "";
    throw new HttpError(409, ErrorCode.Conflict, `model ${lookup.model.id} is installed but not loaded${serving}`);
  }
  return lookup.model.id;
}
