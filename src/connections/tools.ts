import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { ConnectionDeps } from "./connection-deps.ts";
import { getConnection } from "./queries.ts";
import type { ToolRow } from "./types.ts";
import { displayTitle } from "./tool-defs.ts";
import { recordAudit } from "../audit/record.ts";
import { approvalOnTurning } from "./held.ts";

/** A connection's tools as its page shows them: each with whether it is exposed and the name agents see. */
export async function listConnectionTools(deps: Pick<ConnectionDeps, "toolIndex">, workspaceId: string, connectionId: string): Promise<ToolRow[]> {
  const index = await deps.toolIndex.get(workspaceId);
  return [...index.routes.values()]
    .filter((r) => r.connectionId === connectionId)
    .map((r) => ({ ...r.definition, title: displayTitle(r.definition), enabled: r.enabled, exposedName: r.exposedName, override: r.override }));
}

/** Exposes or hides one of a connection's tools; false when the connection or the tool is not there. */
export async function setToolEnabled(deps: ConnectionDeps, workspaceId: string, connectionId: string, toolName: string, enabled: boolean): Promise<boolean> {
  const { t } = deps.database;
  const connection = await getConnection(deps, workspaceId, connectionId);
  if (!connection) return false;
  // Turning it on or off is the admin's review of a change.
  const updated = await deps.database.transaction(async (tx) => {
    const match = and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, toolName));
    await tx.update(t.tools).set(approvalOnTurning(enabled)).where(and(match, eq(t.tools.enabled, !enabled)));
    const rows = await tx.update(t.tools).set({ enabled, changedAt: null }).where(match).returning({ name: t.tools.name, hash: t.tools.definitionHash });
    // Turning a tool on approves the definition it lists now: the trail says which one.
    const approved = enabled && rows[0] ? { approvedHash: rows[0].hash } : {};
    if (rows.length > 0) await recordAudit(deps.database, tx, { workspaceId, action: enabled ? "tool.enabled" : "tool.disabled", target: `connection:${connectionId}`, details: { connection: connection.name, tool: toolName, ...approved } });
    return rows;
  });
  if (updated.length === 0) return false;
  deps.toolIndex.changed(workspaceId);
  return true;
}

/** Exposes or hides several of a connection's tools in one statement (the bulk buttons); the count changed. */
export async function setToolsEnabled(deps: ConnectionDeps, workspaceId: string, connectionId: string, toolNames: string[], enabled: boolean): Promise<number> {
  const { t } = deps.database;
  const connection = await getConnection(deps, workspaceId, connectionId);
  if (!connection || toolNames.length === 0) return 0;
  const updated = await deps.database.transaction(async (tx) => {
    const match = and(eq(t.tools.connectionId, connectionId), inArray(t.tools.name, toolNames));
    await tx.update(t.tools).set(approvalOnTurning(enabled)).where(and(match, eq(t.tools.enabled, !enabled)));
    const rows = await tx
      .update(t.tools)
      .set({ enabled, changedAt: null })
      .where(match)
      .returning({ name: t.tools.name, hash: t.tools.definitionHash });
    // Turning tools on approves the definitions they list now: the trail says which ones.
    const approved = enabled ? { approvedHashes: Object.fromEntries(rows.map((row) => [row.name, row.hash])) } : {};
    if (rows.length > 0) await recordAudit(deps.database, tx, { workspaceId, action: enabled ? "tool.enabled" : "tool.disabled", target: `connection:${connectionId}`, details: { connection: connection.name, tools: rows.map((row) => row.name), ...approved } });
    return rows;
  });
  deps.toolIndex.changed(workspaceId);
  return updated.length;
}

/** The tools a re-sync found new or changed and no admin has turned on or off since. */
export async function listChangedToolNames(deps: Pick<ConnectionDeps, "database">, connectionId: string): Promise<Set<string>> {
  const { t } = deps.database;
  const rows = await deps.database.db
    .select({ name: t.tools.name })
    .from(t.tools)
    .where(and(eq(t.tools.connectionId, connectionId), isNotNull(t.tools.changedAt)));
  return new Set(rows.map((row) => row.name));
}
