import { and, inArray, isNull, lte, or } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { resyncConnection, type SyncResult } from "../connections/resync.ts";
import type { ConnectionDeps } from "../connections/connection-deps.ts";
import { systemClock, type Clock } from "../clock.ts";

export type Prober = {
  /** One round: probes every connection that is due, and resolves when those probes are done. */
  tick(): Promise<void>;
  /** No new rounds; probes still running end with the pool (their handshakes are aborted). */
  stop(): void;
};

/**
 * Background checks. Connections in Error are checked every round, paused ones once their
 * window is over; Connected and Needs re-auth ones are never polled (a refused credential does not
 * heal by itself, and healthy upstreams are judged by their calls). A check lists the tools (see
 * resyncConnection): success brings the connection back with fresh tools, failure counts towards
 * (or lengthens) the pause. A hung check does not hold up the others or the next round.
 */
export function startProber(deps: ConnectionDeps, options: { intervalMs: number; now?: Clock }): Prober {
  const now = options.now ?? systemClock;
  const running = new Set<string>();
  let stopped = false;

  async function tick(): Promise<void> {
    if (stopped) return;
    const due = await findDueConnections(deps.database, now()).catch((error: unknown) => {
      deps.log.warn("prober could not read connections", { error: error instanceof Error ? error.message : String(error) });
      return [];
    });
    const probes = due.filter((c) => !running.has(c.id)).map((c) => probe(c.workspaceId, c.id, c.name));
    await Promise.all(probes);
  }

  async function probe(workspaceId: string, id: string, name: string): Promise<void> {
    running.add(id);
    try {
      // One try: the pause window is the backoff, and a struggling upstream gets one request, not four.
      const result: SyncResult = await resyncConnection(deps, workspaceId, id, { why: "a background check succeeded", attempts: 1 });
      if (stopped) return;
      if (result.ok) deps.log.info("connection recovered", { connection: name, workspaceId });
      else deps.log.debug("connection still failing", { connection: name, workspaceId, error: "error" in result ? result.error : "not found" });
    } catch (error) {
      if (!stopped) deps.log.warn("background check failed", { connection: name, error: error instanceof Error ? error.message : String(error) });
    } finally {
      running.delete(id);
    }
  }

  const timer = setInterval(() => void tick(), options.intervalMs);
  return {
    tick,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

async function findDueConnections(database: Database, now: number): Promise<{ id: string; workspaceId: string; name: string }[]> {
  const { t } = database;
  return database.db
    .select({ id: t.connections.id, workspaceId: t.connections.workspaceId, name: t.connections.name })
    .from(t.connections)
    .where(
      or(
        inArray(t.connections.status, ["error"]),
        and(inArray(t.connections.status, ["paused"]), or(isNull(t.connections.pausedUntil), lte(t.connections.pausedUntil, now))),
      ),
    );
}
