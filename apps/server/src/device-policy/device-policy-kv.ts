import { Inject, Injectable } from "@nestjs/common";
import { StorageType, type KV } from "nats";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { NatsService } from "../nats/nats.service.js";

const MAX_AGE_MS = 60 * 86_400_000; // policies are re-signed well before this (see DevicePolicyService)

/**
 * The JetStream KV bucket devices read their signed policy from (key = device id, value = JWS, history 1). The server
 * is the only writer; each device's NATS permissions allow a direct get and live updates of its own key only.
 */
@Injectable()
export class DevicePolicyKv {
  private kv: Promise<KV> | null = null;

  constructor(
    private readonly nats: NatsService,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  private bucket(): Promise<KV> {
    this.kv ??= this.nats.js.views.kv(this.config.policyBucket, { history: 1, ttl: MAX_AGE_MS, maxValueSize: 16 * 1024, storage: StorageType.File, allow_direct: true }).catch((err: unknown) => {
      this.kv = null;
      throw err;
    });
    return this.kv;
  }

  async put(deviceId: string, jws: string): Promise<void> {
    await (await this.bucket()).put(deviceId, new TextEncoder().encode(jws));
  }
}
