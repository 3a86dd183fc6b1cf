import type { ErrorDescription } from "../../lib/describeError";
import { ErrorPanel } from "./ErrorPanel";

export function ApiErrorPanel({ error }: { error: ErrorDescription }) {
  return (
    <ErrorPanel title={error.title}>
      <p>{error.message}</p>
      {error.hint ? <p>{error.hint}</p> : null}
    </ErrorPanel>
  );
}
