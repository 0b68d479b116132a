import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import type { ToolIndex } from "../gateway/tool-index.ts";
import type { ConnectionRow } from "./types.ts";

export type ConnectionStatus = ConnectionRow["status"];

export const STATUS_LABEL: Record<ConnectionStatus, string> = {
  connected: "Connected",
  needs_reauth: "Needs re-auth",
  error: "Error",
  paused: "Paused",
};

/** Why an OAuth connection has no tools yet. */
export const OAUTH_NOT_CONNECTED = "Connect to authorize";

/** Why a per-member connection has no tools yet. */
export const NO_MEMBER_CONNECTED = "No member has connected their account yet";

type StatusDeps = { database: Database; toolIndex: ToolIndex };

/** The health columns of a connection as they are in the database right now. */
export type HealthState = Pick<ConnectionRow, "status" | "consecutiveFailures" | "pausedUntil">;

/** Where a connection goes next; `reason` is stored as the status detail and on the event. */
export type Transition = HealthState & { reason: string | null; lastSyncedAt?: number };

/**
 * Moves a connection to the state `decide` picks from its current one, in one transaction, and
 * records the change of status (when, from, to, why). The first statement is an UPDATE so that on
 * Postgres the row stays locked until commit: concurrent failures count one by one, never lost.
 * `decide` returns null to leave the row alone.
 */
export async function transitionConnection(
  deps: StatusDeps,
  connection: Pick<ConnectionRow, "id" | "workspaceId">,
  decide: (current: HealthState) => Transition | null,
  now = Date.now(),
): Promise<{ from: HealthState; to: Transition } | null> {
  const { t } = deps.database;
  const changed = await deps.database.transaction(async (tx) => {
    const [current] = await tx
      .update(t.connections)
      .set({ consecutiveFailures: sql`${t.connections.consecutiveFailures}` })
      .where(and(eq(t.connections.id, connection.id), eq(t.connections.workspaceId, connection.workspaceId)))
      .returning({ status: t.connections.status, consecutiveFailures: t.connections.consecutiveFailures, pausedUntil: t.connections.pausedUntil });
    if (!current) return null;
    const next = decide(current);
    if (!next) return null;
    await tx
      .update(t.connections)
      .set({
        status: next.status,
        statusDetail: next.status === "connected" ? null : next.reason,
        consecutiveFailures: next.consecutiveFailures,
        pausedUntil: next.pausedUntil,
        ...(next.lastSyncedAt !== undefined ? { lastSyncedAt: next.lastSyncedAt } : {}),
      })
      .where(eq(t.connections.id, connection.id));
    if (current.status !== next.status) {
      await tx.insert(t.statusEvents).values({ id: newId(), connectionId: connection.id, at: now, fromStatus: current.status, toStatus: next.status, reason: next.reason });
    }
    return { from: current, to: next };
  });
  if (changed) deps.toolIndex.refresh(connection.workspaceId);
  return changed;
}

/** Moves a connection to a status, recording the transition if it is one. */
export async function setConnectionStatus(
  deps: StatusDeps,
  connection: Pick<ConnectionRow, "id" | "workspaceId">,
  to: ConnectionStatus,
  reason: string | null,
  extra: { consecutiveFailures?: number; pausedUntil?: number | null; lastSyncedAt?: number } = {},
  now = Date.now(),
): Promise<void> {
  await transitionConnection(
    deps,
    connection,
    (current) => ({
      status: to,
      reason,
      consecutiveFailures: extra.consecutiveFailures ?? (to === "connected" ? 0 : current.consecutiveFailures),
      pausedUntil: extra.pausedUntil !== undefined ? extra.pausedUntil : to === "connected" ? null : current.pausedUntil,
      ...(extra.lastSyncedAt !== undefined ? { lastSyncedAt: extra.lastSyncedAt } : {}),
    }),
    now,
  );
}

export type StatusEvent = { id: string; at: number; from: ConnectionStatus; to: ConnectionStatus; reason: string | null };

/** The connection's status changes, newest first; empty for a connection of another workspace. */
export async function listStatusEvents(database: Database, workspaceId: string, connectionId: string, limit = 20): Promise<StatusEvent[]> {
  const { t } = database;
  const rows = await database.db
    .select({ id: t.statusEvents.id, at: t.statusEvents.at, from: t.statusEvents.fromStatus, to: t.statusEvents.toStatus, reason: t.statusEvents.reason })
    .from(t.statusEvents)
    .innerJoin(t.connections, eq(t.connections.id, t.statusEvents.connectionId))
    .where(and(eq(t.statusEvents.connectionId, connectionId), eq(t.connections.workspaceId, workspaceId)))
    .orderBy(desc(t.statusEvents.at), desc(t.statusEvents.id))
    .limit(Math.min(Math.max(Math.trunc(limit), 1), 200));
  return rows as StatusEvent[];
}
