import { getTableColumns, sql } from "drizzle-orm";
import { preparedOnce, type Database, type Tables } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { newId } from "../crypto/tokens.ts";

export type AccessLogEntry = Omit<Tables["accessLog"]["$inferInsert"], "id"> & { id?: string };
export type Outcome = Tables["accessLog"]["$inferSelect"]["outcome"];

const FLUSH_EVERY_MS = 200;
// SQLite writes on the event loop's own thread: a few dozen rows per transaction, with a turn of the
// loop between transactions, so that a busy second's entries never hold calls up for long.
// Postgres works on its own connection: one multi-row insert per batch.
const SQLITE_BATCH = 32;
const POSTGRES_BATCH = 500;

type Row = AccessLogEntry & { id: string };

// One row, prepared once: a multi-row insert would be built and prepared anew for every batch size.
// Every column of the table is a placeholder, and `run` fills each (null where the entry has none).
const insertOne = preparedOnce((database: Database) => {
  const columns = Object.keys(getTableColumns(database.t.accessLog)) as (keyof Row)[];
  const statement = database.db
    .insert(database.t.accessLog)
    .values(Object.fromEntries(columns.map((column) => [column, sql.placeholder(column)])) as never)
    .onConflictDoNothing()
    .prepare();
  return { run: (row: Row) => statement.execute(Object.fromEntries(columns.map((column) => [column, row[column] ?? null]))) };
});

/**
 * Calls are recorded off the hot path: `record()` only queues; a timer writes batches in one
 * transaction. A failed write keeps the entries queued for the next attempt, and `close()` drains
 * the queue, so a graceful shutdown loses nothing.
 */
export class AccessLogRecorder {
  private queue: Row[] = [];
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
    const sqlite = this.database.dialect === "sqlite";
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, sqlite ? SQLITE_BATCH : POSTGRES_BATCH);
      try {
        await this.database.transaction(async (tx) => {
          if (!sqlite) {
            await tx.insert(this.database.t.accessLog).values(batch).onConflictDoNothing();
            return;
          }
          const insert = insertOne(this.database);
          for (const row of batch) await insert.run(row);
        });
        this.queue.splice(0, batch.length);
      } catch (error) {
        this.log.error("access log write failed; will retry", { error: error instanceof Error ? error.message : String(error), queued: this.queue.length });
        return;
      }
      // Outside the transaction: requests waiting for the loop go first.
      if (sqlite && this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
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
