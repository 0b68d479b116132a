import { and, eq } from "drizzle-orm";
import type { Principal } from "../accounts/principal.ts";
import type { ConnectionDeps } from "./connection-deps.ts";
import { recordAudit } from "../audit/record.ts";

/** Deletes the connection, its tools and its stored credential. */
export async function deleteConnection(deps: ConnectionDeps, principal: Principal, id: string): Promise<boolean> {
  const { t } = deps.database;
  const removed = await deps.database.transaction(async (tx) => {
    await tx.delete(t.credentials).where(and(eq(t.credentials.connectionId, id), eq(t.credentials.workspaceId, principal.workspaceId)));
    await tx.delete(t.memberCredentials).where(and(eq(t.memberCredentials.connectionId, id), eq(t.memberCredentials.workspaceId, principal.workspaceId)));
    const gone = await tx.delete(t.connections).where(and(eq(t.connections.id, id), eq(t.connections.workspaceId, principal.workspaceId))).returning({ id: t.connections.id, name: t.connections.name });
    if (gone.length > 0) await recordAudit(deps.database, tx, { workspaceId: principal.workspaceId, action: "connection.removed", target: `connection:${id}`, details: { name: gone[0]!.name } });
    return gone;
  });
  if (removed.length === 0) return false;
  deps.pool.drop(id);
  deps.toolIndex.changed(principal.workspaceId);
  deps.log.info("connection removed", { connectionId: id, workspaceId: principal.workspaceId });
  return true;
}
