/** Event kinds the runtime reports (ZDeviceEventV1.kind); the one list to search for handlers. */
export const RuntimeEvent = {
  ModelLoaded: "model.loaded",
  LoadRefused: "model.load.refused",
  LoadFailed: "model.load.failed",
  FallbackServing: "model.fallback",
  HostCrashed: "runtime.host.crashed",
  ApiRefused: "runtime.api.refused",
  MemoryPressure: "model.memory.pressure",
} as const;
export type RuntimeEvent = (typeof RuntimeEvent)[keyof typeof RuntimeEvent];
