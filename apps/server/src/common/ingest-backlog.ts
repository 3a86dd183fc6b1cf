import { Injectable } from "@nestjs/common";

/** How long one observation counts: a few batches, so a single quick batch does not hide a backlog. */
const WINDOW_MS = 3_000;

/**
 * How far behind report ingest is in this process: the age of the oldest report in each batch as it is stored (from
 * the time JetStream stored it), the worst over the last few seconds. Work that adds reports of its own (a rollout's
 * waves: every device sent a model reports its install) reads it to hold back while ingest catches up. Every replica
 * pulls from the one durable consumer, so each sees about the same backlog; a process storing nothing knows none (0).
 */
@Injectable()
export class IngestBacklog {
  private samples: { at: number; behindMs: number }[] = [];

  /** A batch was stored at `now`; `oldestMs` is when JetStream stored its oldest report (epoch ms). */
  observe(oldestMs: number, now = Date.now()): void {
    this.prune(now);
    this.samples.push({ at: now, behindMs: Math.max(0, now - oldestMs) });
  }

  /** The worst age of a report when stored over the last few seconds; 0 when nothing was stored meanwhile. */
  behindMs(now = Date.now()): number {
    this.prune(now);
    return this.samples.reduce((worst, s) => Math.max(worst, s.behindMs), 0);
  }

  private prune(now: number): void {
    let i = 0;
    while (i < this.samples.length && this.samples[i]!.at < now - WINDOW_MS) i++;
    if (i) this.samples = this.samples.slice(i);
  }
}
