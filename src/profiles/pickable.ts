import { eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { ProfileItemKind } from "./limit.ts";

/** What an admin can put in a profile: every connection's tools, prompts, resources and templates, as last listed. */
export type PickableConnection = { id: string; name: string; items: { kind: ProfileItemKind; name: string; description: string | null }[] };

export async function listPickable(database: Database, workspaceId: string): Promise<PickableConnection[]> {
  const { t } = database;
  const connections = await database.db.select({ id: t.connections.id, name: t.connections.name }).from(t.connections).where(eq(t.connections.workspaceId, workspaceId)).orderBy(t.connections.name);
  if (connections.length === 0) return [];
  const ids = connections.map((c) => c.id);
  const tools = await database.db.select({ connectionId: t.tools.connectionId, name: t.tools.name, description: t.tools.description }).from(t.tools).where(inArray(t.tools.connectionId, ids));
  const items = await database.db.select({ connectionId: t.connectionItems.connectionId, kind: t.connectionItems.kind, name: t.connectionItems.name, definition: t.connectionItems.definition }).from(t.connectionItems).where(inArray(t.connectionItems.connectionId, ids));
  const order = (a: { kind: string; name: string }, b: { kind: string; name: string }): number => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return connections.map((c) => ({
    id: c.id,
    name: c.name,
    items: [
      ...tools.filter((r) => r.connectionId === c.id).map((r) => ({ kind: "tool" as const, name: r.name, description: r.description })),
      ...items.filter((r) => r.connectionId === c.id).map((r) => ({ kind: r.kind, name: r.name, description: describe(r.definition) })),
    ].sort(order),
  }));
}

const KIND_ORDER = ["tool", "prompt", "resource", "resource_template"];

function describe(definition: unknown): string | null {
  const d = definition as { description?: unknown } | null;
  return typeof d?.description === "string" ? d.description : null;
}

// Connection ids have no newline.
export function pickableKey(connectionId: string, kind: string, name: string): string {
  return `${connectionId}\n${kind}\n${name}`;
}
