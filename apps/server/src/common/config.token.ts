/** Nest injection tokens for values created outside the module graph. */
export const CONFIG = Symbol("CONFIG");
export const LOGGER = Symbol("LOGGER");
export const PRISMA = Symbol("PRISMA");
export const SERVER_KEY = Symbol("SERVER_KEY");
/** NatsAuthority | null: the NATS decentralized-auth keys, when NATS runs with per-device identity */
export const NATS_AUTHORITY = Symbol("NATS_AUTHORITY");
