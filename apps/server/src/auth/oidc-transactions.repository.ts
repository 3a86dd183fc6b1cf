import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

export interface OidcTransactionRow {
  id: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  expiresAt: Date;
}

/** Pending OIDC sign-ins (state, nonce, PKCE verifier) kept on the server, used once. */
@Injectable()
export class OidcTransactionsRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async create(tx: OidcTransactionRow): Promise<void> {
    // expired ones go as new ones come, so the table stays small without a sweeper
    await this.db.$transaction([this.db.oidcTransaction.deleteMany({ where: { expiresAt: { lt: new Date() } } }), this.db.oidcTransaction.create({ data: tx })]);
  }

  /** Delete and return the transaction: a callback can use it once only. */
  async take(id: string): Promise<OidcTransactionRow | null> {
    const row = await this.db.oidcTransaction.findUnique({ where: { id } });
    if (!row) return null;
    // only the caller whose delete removed the row may use it (two concurrent callbacks: one wins)
    const { count } = await this.db.oidcTransaction.deleteMany({ where: { id } });
    return count === 1 ? row : null;
  }
}
