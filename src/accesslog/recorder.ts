import type { Database, Tables } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { newId } from "../crypto/tokens.ts";

export type AccessLogEntry = Omit<Tables["accessLog"]["$inferInsert"], "id"> & { id?: string };
export type Outcome = Tables["accessLog"]["$inferSelect"]["outcome"];

const FLUSH_EVERY_MS = 200;
const BATCH = 500;

/**
 * Calls are recorded off the hot path: `record()` only queues; a timer writes batches in one
 * transaction. A failed write keeps the entries queued for the next attempt, and `close()` drains
 * the queue, so a graceful shutdown loses nothing.
 */
export class AccessLogRecorder {
  private queue: (AccessLogEntry & { id: string })[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_EVERY_MS);
  }

  record(entry: AccessLogEntry): void {
    this.queue.push({ ...entry, id: entry.id ?? newId(), errorSummary: entry.errorSummary?.slice(0, 500) ?? null });
  }

  get pending(): number {
    return this.queue.length;
  }

  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH);
      try {
        await this.database.transaction(async (tx) => {
          await tx.insert(this.database.t.accessLog).values(batch).onConflictDoNothing();
        });
        this.queue.splice(0, batch.length);
      } catch (error) {
        this.log.error("access log write failed; will retry", { error: error instanceof Error ? error.message : String(error), queued: this.queue.length });
        return;
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let attempt = 0; attempt < 5 && this.queue.length > 0; attempt++) {
      await this.flush();
      if (this.queue.length > 0) await Bun.sleep(100 * (attempt + 1));
    }
    if (this.queue.length > 0) this.log.error("access log entries could not be written at shutdown", { lost: this.queue.length });
  }
}
