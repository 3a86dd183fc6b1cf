import type { TRolloutDeviceState, TRolloutState } from "@fleet/protocol";

const ROLLOUT_LABELS: Record<TRolloutState, string> = {
  running: "Running",
  paused: "Paused",
  completed: "Completed",
  aborted: "Aborted",
  rolled_back: "Rolled back",
};

// Reuse the shell's badge colours: green = good, grey = neutral/finished, red = stopped or failed.
const ROLLOUT_CLASS: Record<TRolloutState, string> = {
  running: "badge-online",
  paused: "badge-never_seen",
  completed: "badge-yes",
  aborted: "badge-fail",
  rolled_back: "badge-revoked",
};

/** A rollout's state as text plus colour. */
export function RolloutStateBadge({ state }: { state: TRolloutState }) {
  return (
    <span className={`badge ${ROLLOUT_CLASS[state]}`} data-rollout-state={state}>
      {ROLLOUT_LABELS[state]}
    </span>
  );
}

const DEVICE_CLASS: Partial<Record<TRolloutDeviceState, string>> = {
  active: "badge-yes",
  failed: "badge-fail",
  rolled_back: "badge-revoked",
  skipped: "badge-offline",
};

/** A device's state in a rollout. */
export function DeviceStateBadge({ state }: { state: TRolloutDeviceState }) {
  return (
    <span className={`badge ${DEVICE_CLASS[state] ?? "badge-never_seen"}`} data-device-state={state}>
      {state.replace("_", " ")}
    </span>
  );
}
