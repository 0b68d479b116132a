import { and, eq } from "drizzle-orm";
import type { ConnectionDeps } from "./connection-deps.ts";
import type { ConnectionMeta, ConnectionRow } from "./types.ts";

/** Reading connections: from the workspace's tool index, or (for a name check) from the table itself. */

export async function findConnectionByName(deps: Pick<ConnectionDeps, "database">, workspaceId: string, name: string): Promise<ConnectionRow | null> {
  const { t } = deps.database;
  const [row] = await deps.database.db.select().from(t.connections).where(and(eq(t.connections.workspaceId, workspaceId), eq(t.connections.name, name)));
  return row ?? null;
}

/** Loads by (workspace, id): another workspace's connection is simply not found. */
export async function getConnection(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string, id: string): Promise<ConnectionMeta | null> {
  const index = await deps.toolIndex.get(workspaceId);
  return index.connections.get(id) ?? null;
}

export async function listConnections(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string): Promise<ConnectionMeta[]> {
  return [...(await deps.toolIndex.get(workspaceId)).connections.values()];
}
