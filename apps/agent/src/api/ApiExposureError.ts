/** The local API refuses to start with an insecure exposure; the message says which setting to change. */
export class ApiExposureError extends Error {
  override name = "ApiExposureError";
}
