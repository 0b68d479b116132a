import { inArray } from "drizzle-orm";
import { UriTemplate, type Prompt, type Resource, type ResourceTemplateType } from "@modelcontextprotocol/server";
import type { Database } from "../db/client.ts";
import { withinMs } from "../db/deadline.ts";
import { checkConnectionName, exposeToolName, HASH_LENGTHS } from "../connections/names.ts";
import type { ItemKind } from "../connections/item-sync.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { isHeld, listedWhileHeld } from "../connections/held.ts";
import { wrapResourceUri } from "./resource-uris.ts";
import type { ToolIndex, WorkspaceIndex } from "./tool-index.ts";

/** One stored prompt, resource or template, where it comes from and what clients see of it. */
export type RoutedItem = {
  kind: ItemKind;
  /** The upstream's own name (prompt) or URI (resource, template). */
  name: string;
  /** What clients see: `connection__prompt`, or the gateway URI (resource-uris.ts). */
  exposedName: string;
  connection: ConnectionMeta;
  definition: Record<string, unknown>;
  enabled: boolean;
  /** Changed upstream since approved (prompts, templates): listed as approved or not at all, never sent (connections/held.ts). */
  held: boolean;
};

export type WorkspaceItems = {
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplateType[];
  /** Every known prompt by exposed name, disabled ones included (so a get can say why it is refused). */
  promptRoutes: Map<string, RoutedItem>;
  /** Per connection name: its resources by upstream URI, and its templates. */
  byConnection: Map<string, { connection: ConnectionMeta; resources: Map<string, RoutedItem>; templates: { item: RoutedItem; template: UriTemplate | null }[] }>;
};

/**
 * The per-workspace prompts, resources and templates, from the database only, like tools/list:
 * never waiting on an upstream. It is rebuilt whenever the tool index is (same generations, same
 * replica messages), so a change to items goes through `toolIndex.changed`, which also tells
 * connected clients (they hear every list_changed: the gateway does not say which list changed).
 */
export class ItemIndex {
  private readonly built = new WeakMap<WorkspaceIndex, { items: Promise<WorkspaceItems>; ready?: WorkspaceItems }>();
  // The last items built per workspace: served while the database cannot build newer ones, as the tool index does.
  private readonly lastBuilt = new Map<string, WorkspaceItems>();

  /** `waitMs`: how long a rebuild may wait on the database before the last items built are served instead. */
  constructor(
    private readonly database: Database,
    private readonly toolIndex: ToolIndex,
    private readonly options: { waitMs: number } = { waitMs: 0 },
  ) {}

  async get(workspaceId: string): Promise<WorkspaceItems> {
    const tools = await this.toolIndex.get(workspaceId);
    let entry = this.built.get(tools);
    if (entry?.ready) return entry.ready;
    if (!entry) {
      const built = { items: buildItems(this.database, tools) } as { items: Promise<WorkspaceItems>; ready?: WorkspaceItems };
      entry = built;
      this.built.set(tools, built);
      built.items.then(
        (items) => {
          built.ready = items;
          this.lastBuilt.set(workspaceId, items);
        },
        () => this.built.delete(tools),
      );
    }
    const last = this.lastBuilt.get(workspaceId);
    if (!last) return entry.items;
    try {
      return await withinMs(entry.items, this.options.waitMs);
    } catch {
      return last;
    }
  }
}

async function buildItems(database: Database, tools: WorkspaceIndex): Promise<WorkspaceItems> {
  const { t } = database;
  const connections = [...tools.connections.values()].filter((c) => checkConnectionName(c.name) === null);
  const rows = connections.length === 0 ? [] : await database.db.select().from(t.connectionItems).where(inArray(t.connectionItems.connectionId, connections.map((c) => c.id)));
  const byId = new Map(connections.map((c) => [c.id, c]));
  const items: WorkspaceItems = { prompts: [], resources: [], resourceTemplates: [], promptRoutes: new Map(), byConnection: new Map() };
  for (const connection of connections.toSorted((a, b) => compare(a.name, b.name))) {
    items.byConnection.set(connection.name, { connection, resources: new Map(), templates: [] });
  }
  // Code-unit order, as the tool index: which of two meeting shortened prompt names keeps the short one never depends on collation.
  for (const row of rows.toSorted((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name) || compare(a.connectionId, b.connectionId))) {
    const connection = byId.get(row.connectionId);
    const own = connection && items.byConnection.get(connection.name);
    if (!connection || !own) continue;
    const definition = row.definition as Record<string, unknown>;
    const base = { kind: row.kind, name: row.name, connection, definition, enabled: row.enabled, held: isHeld(row) };
    // What clients see of it: as listed, as approved while a change is held, or nothing.
    const shown = listedWhileHeld(definition, row, connection.heldMode);
    if (row.kind === "prompt") {
      const exposedName = uniquePromptName(connection.name, row.name, items.promptRoutes);
      if (exposedName === null) continue;
      items.promptRoutes.set(exposedName, { ...base, exposedName });
      if (shown) items.prompts.push({ ...shown, name: exposedName } as Prompt);
    } else if (row.kind === "resource") {
      const exposedName = wrapResourceUri(connection.name, row.name);
      own.resources.set(row.name, { ...base, exposedName });
      if (shown) items.resources.push({ ...shown, uri: exposedName } as Resource);
    } else {
      const exposedName = wrapResourceUri(connection.name, row.name);
      own.templates.push({ item: { ...base, exposedName }, template: parseTemplate(row.name) });
      if (shown) items.resourceTemplates.push({ ...shown, uriTemplate: exposedName } as ResourceTemplateType);
    }
  }
  return items;
}

/** A template the SDK cannot parse still lists (clients may expand it) but matches no URI. */
function parseTemplate(text: string): UriTemplate | null {
  try {
    return new UriTemplate(text);
  } catch {
    return null;
  }
}

function uniquePromptName(connectionName: string, promptName: string, taken: Map<string, RoutedItem>): string | null {
  for (const hashLength of HASH_LENGTHS) {
    const name = exposeToolName(connectionName, promptName, hashLength);
    if (!taken.has(name)) return name;
  }
  return null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Why a read of `uri` (the upstream's own URI) on this connection is refused by an admin's choice,
 * or null: a listed resource that is off ("off"), or a URI that only templates describe none of
 * which is on and approved ("held" when one of them is on but held for review, else "off"). A URI
 * the upstream never listed (a tool result's resource link, say) is read: the upstream decides.
 */
export function readRefusal(own: WorkspaceItems["byConnection"] extends Map<string, infer V> ? V : never, uri: string): "off" | "held" | null {
  const listed = own.resources.get(uri);
  if (listed) return listed.enabled ? null : "off";
  const matching = own.templates.filter((t) => t.template?.match(uri) != null);
  if (matching.length === 0 || matching.some((t) => t.item.enabled && !t.item.held)) return null;
  return matching.some((t) => t.item.held) ? "held" : "off";
}
