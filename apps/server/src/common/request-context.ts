import { AsyncLocalStorage } from "node:async_hooks";

/** Per-request state the audit trail reads: who is acting (set by the AuthGuard). */
export interface RequestContext {
  actor: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Express middleware: every request runs in its own context. */
export function requestContextMiddleware(_req: unknown, _res: unknown, next: () => void): void {
  storage.run({ actor: null }, next);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** "admin" (the generic caller) becomes the signed-in user who made the request, e.g. "user:ana@example.com". */
export function actingAs(actor: string): string {
  return actor === "admin" ? (currentRequestContext()?.actor ?? actor) : actor;
}
