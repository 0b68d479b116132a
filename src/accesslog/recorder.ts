import { getTableColumns, sql } from "drizzle-orm";
import { preparedOnce, type Database, type Tables } from "../db/client.ts";
import { RowStatement } from "../db/row-statement.ts";
import { unnestInsert } from "../db/unnest-insert.ts";
import type { Logger } from "../log.ts";
import { newId } from "../crypto/tokens.ts";
import { withinMs } from "../db/deadline.ts";
import { appendFileSync, existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { appendAuditEvents, type AuditInput } from "../audit/record.ts";
import { currentAuditOrigin } from "../audit/context.ts";
import type { CallTiming } from "../upstream/call-signals.ts";

export type AccessLogEntry = Omit<Tables["accessLog"]["$inferInsert"], "id"> & { id?: string };
export type Outcome = Tables["accessLog"]["$inferSelect"]["outcome"];

const FLUSH_EVERY_MS = 200;
// SQLite writes on the event loop's own thread: a few dozen rows per transaction, with a turn of the
// loop between transactions, so that a busy second's entries never hold calls up for long. 64 rows
// (with their audit entries) hold it ~0.6 ms, less than 32 did before the statements were bound by
// position (~1.1 ms), and each commit's fixed cost is shared by twice the rows (bench/README.md).
// Postgres works on its own connection: one insert of the whole batch (db/unnest-insert.ts).
const SQLITE_BATCH = 64;
const POSTGRES_BATCH = 500;

/** `origin`: the client's address and user agent, for the audit entry only (the access log has no column for them). */
type Row = AccessLogEntry & { id: string; origin?: { ip: string | null; userAgent: string | null } };

// Both dialects' inserts send null where a plain insert would leave the column to its default: these
// columns have one (tool calls leave `kind` out, and rows queued on disk before it existed lack it).
const COLUMN_DEFAULTS: Partial<Row> = { kind: "tool" };

// One row, prepared once: a multi-row insert would be built and prepared anew for every batch size.
// Every column of the table is a placeholder, bound by position (null where the entry has none).
// No RETURNING: the count of rows changed says whether it was stored, at about half of SQLite's own cost of the insert.
const insertOne = preparedOnce((database: Database) => {
  const columns = Object.keys(getTableColumns(database.t.accessLog));
  const statement = RowStatement.prepare(
    database,
    database.db
      .insert(database.t.accessLog)
      .values(Object.fromEntries(columns.map((column) => [column, sql.placeholder(column)])) as never)
      .onConflictDoNothing(),
  );
  /** Rows changed: 1 when the row was stored now, 0 when an earlier attempt had stored it. */
  return { run: (row: Row) => statement.run(row, COLUMN_DEFAULTS) };
});

/** Where rows wait on disk while the database cannot take them: JSON lines in the data folder. */
export const QUEUE_FILE = "access-log-queue.jsonl";

export type RecorderOptions = {
  /** The data folder, for rows that do not fit in memory while the database is unreachable. */
  dataDir: string;
  /** Rows held in memory before they go to disk. */
  memoryRows: number;
  /** How long one write may wait for the database before it counts as failed (0: as long as the driver does). */
  waitMs: number;
  /** Hears every call as it is recorded (metrics, observe/observability.ts); must not throw. */
  onRecord?: (entry: AccessLogEntry, timing?: CallTiming) => void;
  /** Hears how long each batch took to write, and whether it was written. */
  onWrite?: (seconds: number, ok: boolean) => void;
};

/**
 * Calls are recorded off the hot path: `record()` only queues; a timer writes batches in one
 * transaction. A failed write keeps the entries queued for the next attempt; while the database
 * stays unreachable, rows past `memoryRows` are appended to a file in the data folder and written
 * (first, in order) once it answers again. Every row carries its id from the start and is inserted
 * with ON CONFLICT DO NOTHING, so a row written twice (a write that succeeded after its deadline, a
 * replay cut short) is stored once. `close()` drains the queue, or leaves it on disk for the next start.
 */
export class AccessLogRecorder {
  private queue: Row[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> | null = null;
  private readonly queueFile: string;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly options: RecorderOptions,
  ) {
    this.queueFile = join(options.dataDir, QUEUE_FILE);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** `timing`: the call's tally of upstream time, for the metrics (not written). */
  record(entry: AccessLogEntry, timing?: CallTiming): void {
    this.options.onRecord?.(entry, timing);
    const origin = currentAuditOrigin();
    this.queue.push({
      ...entry,
      id: entry.id ?? newId(),
      errorSummary: entry.errorSummary?.slice(0, 500) ?? null,
      ...(origin ? { origin: { ip: origin.ip, userAgent: origin.userAgent } } : {}),
    });
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
    // Rows on disk are older than those in memory: they go first.
    if (!(await this.replayQueueFile())) return this.spillPastMemory();
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, sqlite ? SQLITE_BATCH : POSTGRES_BATCH);
      try {
        await this.insert(batch);
        this.queue.splice(0, batch.length);
      } catch (error) {
        this.log.error("access log write failed; will retry", { error: describeCause(error), queued: this.queue.length });
        return this.spillPastMemory();
      }
      // Outside the transaction: requests waiting for the loop go first.
      if (sqlite && this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private insert(batch: Row[]): Promise<void> {
    const sqlite = this.database.dialect === "sqlite";
    // Each call's entry joins the audit trail in the same transaction: both are stored, or neither,
    // and a row already stored by an earlier attempt is not audited twice.
    const written = this.database.transaction(async (tx) => {
      let stored: Row[];
      if (!sqlite) {
        const ids = await unnestInsert(tx, this.database.t.accessLog, batch, { defaults: COLUMN_DEFAULTS, onConflictDoNothing: true, returning: "id" });
        const storedIds = new Set(ids);
        stored = batch.filter((row) => storedIds.has(row.id));
      } else {
        const insert = insertOne(this.database);
        stored = [];
        for (const row of batch) {
          // A number at once inside the transaction; a promise only if the gate held it back.
          const changed = insert.run(row);
          if ((typeof changed === "number" ? changed : await changed) > 0) stored.push(row);
        }
      }
      await appendAuditEvents(this.database, tx, stored.map(callAuditEntry));
    });
    const timed = this.options.onWrite;
    if (!timed) return withinMs(written, this.options.waitMs);
    const started = performance.now();
    const took = (): number => (performance.now() - started) / 1000;
    return withinMs(written, this.options.waitMs).then(
      () => timed(took(), true),
      (error: unknown) => {
        timed(took(), false);
        throw error;
      },
    );
  }

  /** More queued than memory may hold: the queue goes to the end of the file on disk. */
  private spillPastMemory(memoryRows = this.options.memoryRows): void {
    if (this.queue.length <= memoryRows) return;
    try {
      appendFileSync(this.queueFile, `${this.queue.map((row) => JSON.stringify(row)).join("\n")}\n`, { mode: 0o600 });
      this.log.warn("access log rows kept on disk until the database answers", { rows: this.queue.length, file: QUEUE_FILE });
      this.queue = [];
    } catch (error) {
      this.log.error("access log rows could not be kept on disk; holding them in memory", { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Writes the rows waiting on disk, a batch at a time, then removes the file. False when the database refused. */
  private async replayQueueFile(): Promise<boolean> {
    if (!existsSync(this.queueFile)) return true;
    const batchSize = this.database.dialect === "sqlite" ? SQLITE_BATCH : POSTGRES_BATCH;
    let batch: Row[] = [];
    let replayed = 0;
    try {
      for await (const line of readLines(this.queueFile)) {
        const row = parseRow(line);
        if (row) batch.push(row);
        if (batch.length < batchSize) continue;
        await this.insert(batch);
        replayed += batch.length;
        batch = [];
      }
      if (batch.length > 0) await this.insert(batch);
      replayed += batch.length;
    } catch (error) {
      this.log.error("access log rows on disk could not be written yet; will retry", { error: describeCause(error), written: replayed });
      return false;
    }
    unlinkSync(this.queueFile);
    this.log.info("access log rows kept on disk were written", { rows: replayed });
    return true;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let attempt = 0; attempt < 5 && (this.queue.length > 0 || existsSync(this.queueFile)); attempt++) {
      await this.flush();
      if (this.queue.length > 0) await Bun.sleep(100 * (attempt + 1));
    }
    if (this.queue.length === 0) return;
    // Kept for the next start, which writes them first.
    const rows = this.queue.length;
    this.spillPastMemory(0);
    if (this.queue.length > 0) this.log.error("access log entries could not be written at shutdown", { lost: this.queue.length });
    else this.log.warn("access log entries left on disk at shutdown, for the next start", { rows });
  }
}

function callAuditEntry(row: Row): AuditInput {
  const who = row.userId ? `user:${row.userId}` : "system";
  return {
    at: row.at,
    workspaceId: row.workspaceId,
    // The access log's one column holds a key's or an OAuth grant's id (see gateway/call.ts).
    actor: row.apiKeyId ? `${who}/credential:${row.apiKeyId}` : who,
    fromIp: row.origin?.ip ?? null,
    fromUserAgent: row.origin?.userAgent ?? null,
    action: "tool.called",
    target: row.connectionName ? `${row.connectionName}/${row.tool}` : row.tool,
    // In the trail's (sorted) order already, which spares sorting them per entry.
    details: { accessLogId: row.id, credentialUserId: row.credentialUserId ?? null, errorSummary: row.errorSummary ?? null, latencyMs: row.latencyMs, outcome: row.outcome },
  };
}

async function* readLines(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  const reader = Bun.file(path).stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let end = pending.indexOf("\n");
    while (end >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
      end = pending.indexOf("\n");
    }
  }
  pending += decoder.decode();
  if (pending) yield pending;
}

/** A line of the queue file; a line cut short by a crash while appending is skipped. */
function parseRow(line: string): Row | null {
  if (!line.trim()) return null;
  try {
    const row = JSON.parse(line) as Row;
    return typeof row.id === "string" ? row : null;
  } catch {
    return null;
  }
}

/** A query error's own message quotes its parameters; the driver's cause says what went wrong. */
function describeCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message.slice(0, 200) : String(error);
}
