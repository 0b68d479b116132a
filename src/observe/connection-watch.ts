import { desc, inArray } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { withinMs } from "../db/deadline.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../clock.ts";

export type ConnectionHealth = {
  id: string;
  name: string;
  status: "connected" | "needs_reauth" | "error" | "paused";
  /** When it went into Error or Paused (from any other status); null when it is in neither. */
  downSince: number | null;
  /** How long it had been down when checked. */
  downForMs: number | null;
  /** Down for at least the threshold. */
  downTooLong: boolean;
};

const DOWN = new Set(["error", "paused"]);
const LABEL: Record<string, string> = { error: "Error", paused: "Paused" };

export type ConnectionWatchOptions = {
  database: Database;
  log: Logger;
  now: Clock;
  /** CONNECTION_DOWN_WARN_MS */
  warnAfterMs: number;
  /** How long a check waits on the database before it keeps the last snapshot. */
  waitMs: number;
};

/**
 * Every connection's status, and how long each has been in Error or Paused — from the status
 * history, so a restart does not reset the clock. A connection down for `warnAfterMs` is logged
 * once at warn; it is logged again only after it came back and went down again. The snapshot also
 * feeds the metrics (status, time down) and names connections for the pool's gauges.
 */
export class ConnectionWatch {
  private snapshot: ConnectionHealth[] = [];
  /** Connection id → the downSince of the episode already logged. */
  private readonly warned = new Map<string, number>();
  private readonly firstSeen = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<ConnectionHealth[]> | null = null;

  constructor(private readonly options: ConnectionWatchOptions) {}

  start(): void {
    // Often enough that the warning comes at most a quarter of the threshold late (and within a minute).
    const every = Math.max(1000, Math.min(60_000, this.options.warnAfterMs / 4));
    this.timer ??= setInterval(() => void this.check().catch(() => undefined), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get current(): ConnectionHealth[] {
    return this.snapshot;
  }

  /** Reads every connection's status now (one check at a time); on a database failure, the last snapshot stays. */
  check(): Promise<ConnectionHealth[]> {
    this.running ??= this.read()
      .then((fresh) => {
        this.snapshot = fresh;
        this.warnLongDowns(fresh);
        return fresh;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async read(): Promise<ConnectionHealth[]> {
    const { database, now, warnAfterMs, waitMs } = this.options;
    const { t } = database;
    const rows = await withinMs(database.db.select({ id: t.connections.id, name: t.connections.name, status: t.connections.status }).from(t.connections), waitMs);
    const downIds = rows.filter((row) => DOWN.has(row.status)).map((row) => row.id);
    const since = downIds.length === 0 ? new Map<string, number>() : downSince(await withinMs(this.eventsOf(downIds), waitMs));
    const at = now();
    return rows.map((row) => {
      const down = DOWN.has(row.status) ? (since.get(row.id) ?? this.firstSeenDown(row.id, at)) : null;
      const downForMs = down === null ? null : Math.max(0, at - down);
      return { ...row, downSince: down, downForMs, downTooLong: downForMs !== null && downForMs >= warnAfterMs };
    });
  }

  private eventsOf(ids: string[]): Promise<{ connectionId: string; at: number; fromStatus: string; toStatus: string }[]> {
    const { t } = this.options.database;
    return this.options.database.db
      .select({ connectionId: t.statusEvents.connectionId, at: t.statusEvents.at, fromStatus: t.statusEvents.fromStatus, toStatus: t.statusEvents.toStatus })
      .from(t.statusEvents)
      .where(inArray(t.statusEvents.connectionId, ids))
      .orderBy(desc(t.statusEvents.at), desc(t.statusEvents.id));
  }

  /** No history says when (a row written before status events were kept): counted from when this process first saw it down. */
  private firstSeenDown(id: string, at: number): number {
    const seen = this.firstSeen.get(id) ?? at;
    this.firstSeen.set(id, seen);
    return seen;
  }

  private warnLongDowns(connections: ConnectionHealth[]): void {
    for (const connection of connections) {
      if (connection.downSince === null) {
        this.warned.delete(connection.id);
        this.firstSeen.delete(connection.id);
        continue;
      }
      if (!connection.downTooLong || this.warned.get(connection.id) === connection.downSince) continue;
      this.warned.set(connection.id, connection.downSince);
      const minutes = Math.round((connection.downForMs ?? 0) / 60_000);
      this.options.log.warn(`connection ${connection.name} has been down (${LABEL[connection.status]}) for ${minutes} min; its tools fail until it answers again`, {
        connection: connection.name,
        connectionId: connection.id,
        status: connection.status,
        downSince: new Date(connection.downSince).toISOString(),
      });
    }
  }
}

/** Per connection, newest events first: the time of the latest move from a healthy status into Error or Paused. */
function downSince(events: { connectionId: string; at: number; fromStatus: string; toStatus: string }[]): Map<string, number> {
  const since = new Map<string, number>();
  const settled = new Set<string>();
  for (const event of events) {
    if (settled.has(event.connectionId)) continue;
    // Error ⇄ Paused is one episode; walk back to where it began (or the oldest event kept).
    since.set(event.connectionId, event.at);
    if (!DOWN.has(event.fromStatus)) settled.add(event.connectionId);
  }
  return since;
}
