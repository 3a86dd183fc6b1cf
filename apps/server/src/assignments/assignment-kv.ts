import { Inject, Injectable, type OnModuleInit } from "@nestjs/common";
import { nanos, StorageType, type KV } from "nats";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { NatsService } from "../nats/nats.service.js";

const DAY_MS = 86_400_000;
/** Renewals re-put every assignment days before it expires, so entries never need to outlive this. */
const MAX_AGE_MS = 14 * DAY_MS;
const MAX_BUCKET_BYTES = 1024 ** 3;
const MAX_VALUE_BYTES = 64 * 1024;
/** Puts in flight at once: JetStream acks pipeline, so a bulk assignment is bounded by the broker, not by round trips. */
const PUT_CONCURRENCY = 2000;

/**
 * The JetStream KV bucket devices read their signed assignment from (key = device id, value = JWS, history 1).
 * The server is the only writer; each device may only direct-get and watch its own key.
 */
@Injectable()
export class AssignmentKv implements OnModuleInit {
  private kv: KV | null = null;

  constructor(
    private readonly nats: NatsService,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureBucket();
  }

  /** Create the bucket at start-up (or bind to it), with direct gets and bounded size/age. */
  async ensureBucket(): Promise<KV> {
    if (this.kv) return this.kv;
    const bucket = this.config.assignmentBucket;
    const kv = await this.nats.js.views.kv(bucket, { history: 1, ttl: MAX_AGE_MS, max_bytes: MAX_BUCKET_BYTES, maxValueSize: MAX_VALUE_BYTES, storage: StorageType.File, allow_direct: true });
    // An existing bucket keeps its old limits unless updated here.
    const info = await this.nats.jsm.streams.info(`KV_${bucket}`);
    if (info.config.max_bytes !== MAX_BUCKET_BYTES || info.config.max_age !== nanos(MAX_AGE_MS) || info.config.max_msg_size !== MAX_VALUE_BYTES) {
      await this.nats.jsm.streams.update(`KV_${bucket}`, { ...info.config, max_bytes: MAX_BUCKET_BYTES, max_age: nanos(MAX_AGE_MS), max_msg_size: MAX_VALUE_BYTES });
    }
    this.kv = kv;
    return kv;
  }

  /**
   * Put every (deviceId, jws). Bulk: plain publishes to `$KV.<bucket>.<key>` (which the bucket's stream stores) and
   * one flush, then the stream's last sequence must have grown by at least the number published; otherwise every
   * value is put again one by one with a JetStream ack each. Per-put acks cost ~0.3 ms each, 3 s for 10,000 devices.
   * Only one writer is expected at a time (callers hold the rollout lock).
   */
  async putMany(items: { deviceId: string; jws: string }[]): Promise<void> {
    const kv = await this.ensureBucket();
    const enc = new TextEncoder();
    if (items.length < 50) {
      await Promise.all(items.map((it) => kv.put(it.deviceId, enc.encode(it.jws))));
      return;
    }
    const stream = `KV_${this.config.assignmentBucket}`;
    const before = (await this.nats.jsm.streams.info(stream)).state.last_seq;
    for (const it of items) this.nats.nc.publish(`$KV.${this.config.assignmentBucket}.${it.deviceId}`, enc.encode(it.jws));
    await this.nats.nc.flush();
    const stored = await this.waitForSeq(stream, before + items.length);
    if (stored) return;
    for (let i = 0; i < items.length; i += PUT_CONCURRENCY) {
      await Promise.all(items.slice(i, i + PUT_CONCURRENCY).map((it) => kv.put(it.deviceId, enc.encode(it.jws))));
    }
  }

  /** Whether the stream reaches `seq` within a few seconds (the broker may still be writing after the flush). */
  private async waitForSeq(stream: string, seq: number): Promise<boolean> {
    const deadline = Date.now() + 5000;
    for (;;) {
      if ((await this.nats.jsm.streams.info(stream)).state.last_seq >= seq) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async get(deviceId: string): Promise<string | null> {
    const kv = await this.ensureBucket();
    const e = await kv.get(deviceId);
    return e && e.operation === "PUT" ? e.string() : null;
  }
}
