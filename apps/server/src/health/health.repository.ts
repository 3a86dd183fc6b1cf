import { Inject, Injectable } from "@nestjs/common";
import { PRISMA } from "../common/config.token.js";
import type { Db } from "../common/prisma.js";

@Injectable()
export class HealthRepository {
  constructor(@Inject(PRISMA) private readonly db: Db) {}

  async ping(): Promise<void> {
    await this.db.$queryRaw`SELECT 1`;
  }
}
