import { hash, verify } from "@node-rs/argon2";

// argon2id (the library's default algorithm) with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | null = null;

/**
 * Verify a password against a stored hash; with no hash (unknown user, not set up, disabled) verify against a dummy
 * hash of the same cost anyway, so the answer takes about as long either way and says nothing about the account.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    await verify(await (dummy ??= hashPassword("fleetwise-dummy-password")), password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
