import { recordAudit } from "../audit/record.ts";
import { approvalOnTurning } from "./held.ts";
import { and, eq } from "drizzle-orm";
import type { AppDeps } from "../deps.ts";
import type { ItemKind } from "./item-sync.ts";
import { getConnection } from "./queries.ts";

/** One of a connection's prompts, resources or templates, as its page shows it. */
export type ItemRow = { kind: ItemKind; name: string; exposedName: string; title: string | null; description: string | null; enabled: boolean };

type ItemDeps = Pick<AppDeps, "database" | "toolIndex" | "itemIndex">;

export function isItemKind(value: string): value is ItemKind {
  return value === "prompt" || value === "resource" || value === "resource_template";
}

/** A connection's prompts, then resources, then templates, each with the name or URI clients see. */
export async function listConnectionItems(deps: ItemDeps, workspaceId: string, connectionName: string): Promise<ItemRow[]> {
  const items = await deps.itemIndex.get(workspaceId);
  const own = items.byConnection.get(connectionName);
  if (!own) return [];
  const text = (value: unknown): string | null => (typeof value === "string" && value.length > 0 ? value : null);
  const row = (item: { kind: ItemKind; name: string; exposedName: string; definition: Record<string, unknown>; enabled: boolean }): ItemRow => ({
    kind: item.kind,
    name: item.name,
    exposedName: item.exposedName,
    title: text(item.definition.title) ?? (item.kind === "prompt" ? null : text(item.definition.name)),
    description: text(item.definition.description),
    enabled: item.enabled,
  });
  const prompts = [...items.promptRoutes.values()].filter((p) => p.connection.id === own.connection.id);
  return [...prompts.map(row), ...[...own.resources.values()].map(row), ...own.templates.map((t) => row(t.item))];
}

/** Exposes or hides one prompt, resource or template; false when the connection or the item is not there. */
export async function setItemEnabled(deps: ItemDeps, workspaceId: string, connectionId: string, item: { kind: ItemKind; name: string }, enabled: boolean): Promise<boolean> {
  const { t } = deps.database;
  const connection = await getConnection(deps, workspaceId, connectionId);
  if (!connection) return false;
  const updated = await deps.database.transaction(async (tx) => {
    const match = and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.kind, item.kind), eq(t.connectionItems.name, item.name));
    await tx.update(t.connectionItems).set(approvalOnTurning(enabled)).where(and(match, eq(t.connectionItems.enabled, !enabled)));
    const rows = await tx
      .update(t.connectionItems)
      .set({ enabled })
      .where(match)
      .returning({ name: t.connectionItems.name });
    if (rows.length > 0) await recordAudit(deps.database, tx, { workspaceId, action: enabled ? `${item.kind}.enabled` : `${item.kind}.disabled`, target: `connection:${connectionId}`, details: { connection: connection.name, name: item.name } });
    return rows;
  });
  if (updated.length === 0) return false;
  deps.toolIndex.changed(workspaceId);
  return true;
}
