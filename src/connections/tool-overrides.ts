import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";

/**
 * What an admin set for one tool: the name agents see instead of `connection__tool`, and the
 * description they read instead of the upstream's. Either may be null (not set).
 */
export type ToolOverride = { alias: string | null; description: string | null };

/** Every override of the workspace, by `overrideKey(connection id, upstream tool name)`: the tool index reads them once per build. */
export async function loadToolOverrides(database: Database, workspaceId: string): Promise<Map<string, ToolOverride>> {
  const { t } = database;
  const rows = await database.db
    .select({ connectionId: t.toolOverrides.connectionId, toolName: t.toolOverrides.toolName, alias: t.toolOverrides.alias, description: t.toolOverrides.description })
    .from(t.toolOverrides)
    .where(eq(t.toolOverrides.workspaceId, workspaceId));
  return new Map(rows.map((row) => [overrideKey(row.connectionId, row.toolName), { alias: row.alias, description: row.description }]));
}

// Connection ids have no newline.
export function overrideKey(connectionId: string, toolName: string): string {
  return `${connectionId}\n${toolName}`;
}

/** A call by the `connection__tool` name an alias replaced: the alias is the tool's one name on the workspace endpoint. */
export function renamedSentence(oldName: string, alias: string): string {
  return `Unknown tool: ${oldName}. A workspace admin renamed this tool to ${alias}: call it by that name.`;
}
