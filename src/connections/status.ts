import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { newId } from "../crypto/tokens.ts";
import type { ConnectionRow, ToolIndex } from "../gateway/tool-index.ts";

export type ConnectionStatus = ConnectionRow["status"];

export const STATUS_LABEL: Record<ConnectionStatus, string> = {
  connected: "Connected",
  needs_reauth: "Needs re-auth",
  error: "Error",
  paused: "Paused",
};

type StatusDeps = { database: Database; toolIndex: ToolIndex };

/** Moves a connection to a status, recording the transition (when, from, to, why) if it is one. */
export async function setConnectionStatus(
  deps: StatusDeps,
  connection: Pick<ConnectionRow, "id" | "workspaceId" | "status">,
  to: ConnectionStatus,
  reason: string | null,
  extra: { consecutiveFailures?: number; pausedUntil?: number | null; lastSyncedAt?: number } = {},
  now = Date.now(),
): Promise<void> {
  const { t } = deps.database;
  await deps.database.transaction(async (tx) => {
    const [current] = await tx.select({ status: t.connections.status }).from(t.connections).where(eq(t.connections.id, connection.id));
    if (!current) return;
    await tx
      .update(t.connections)
      .set({
        status: to,
        statusDetail: to === "connected" ? null : reason,
        consecutiveFailures: extra.consecutiveFailures ?? (to === "connected" ? 0 : sql`${t.connections.consecutiveFailures}`),
        ...(extra.pausedUntil !== undefined ? { pausedUntil: extra.pausedUntil } : to === "connected" ? { pausedUntil: null } : {}),
        ...(extra.lastSyncedAt !== undefined ? { lastSyncedAt: extra.lastSyncedAt } : {}),
      })
      .where(eq(t.connections.id, connection.id));
    if (current.status !== to) {
      await tx.insert(t.statusEvents).values({ id: newId(), connectionId: connection.id, at: now, fromStatus: current.status, toStatus: to, reason });
    }
  });
  deps.toolIndex.refresh(connection.workspaceId);
}
