import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Tool } from "@modelcontextprotocol/server";
import type { Database } from "../db/client.ts";
import { withinMs } from "../db/deadline.ts";
import { checkConnectionName, exposeToolName, HASH_LENGTHS } from "../connections/names.ts";
import { toolDefinitionOf, type ToolDefinition } from "../connections/tool-defs.ts";
import { isHeld, listedWhileHeld, NO_HELD } from "../connections/held.ts";
import type { ConnectionMeta } from "../connections/types.ts";
import { buildGatewayProfile, type GatewayProfile } from "./server-profile.ts";
import { rewriteToolMeta } from "./resource-uris.ts";


export type RoutedTool = {
  exposedName: string;
  connectionId: string;
  connectionName: string;
  definition: ToolDefinition;
  /**
   * What the upstream client is told about the tool when calling it: its input schema, from which
   * the SDK mirrors `x-mcp-header` arguments into `Mcp-Param-*` headers (SEP-2243) without a
   * tools/list of its own. No output schema: structuredContent passes through unchanged, and the
   * client checks it against the schema it got from the gateway's tools/list.
   */
  callDefinition: Tool;
  enabled: boolean;
  /** Changed upstream since approved: listed as approved or not at all, and never called (connections/held.ts). */
  held: boolean;
};

export type WorkspaceIndex = {
  /** Enabled upstream tools as clients see them, ready to send. */
  listed: Tool[];
  /** Every known tool by exposed name, disabled ones included (so a call can say why it is refused). */
  routes: Map<string, RoutedTool>;
  connections: Map<string, ConnectionMeta>;
  /** What the gateway announces to this workspace's clients: capabilities and merged instructions. */
  profile: GatewayProfile;
};

const CHANNEL = "mgw_tool_index";

/** `ready` once built, so that a current index is returned without waiting a turn. */
type CachedIndex = { generation: number; index: Promise<WorkspaceIndex>; ready?: WorkspaceIndex };

/**
 * The per-workspace tool list, held in memory and built from the database only: tools/list never
 * waits on an upstream. Rebuilt on the next read after a change. Replicas sharing a Postgres
 * database tell each other about changes (LISTEN/NOTIFY), so every replica's list and every
 * replica's connected clients follow a change made on any of them.
 */
export class ToolIndex {
  private readonly cache = new Map<string, CachedIndex>();
  // The last index built per workspace: served while the database cannot build a newer one.
  private readonly lastBuilt = new Map<string, WorkspaceIndex>();
  private readonly generations = new Map<string, number>();
  private readonly listeners = new Set<(workspaceId: string) => void>();
  private readonly replicaId = crypto.randomUUID();

  /** `waitMs`: how long a rebuild may wait on the database before the last index built is served instead. */
  constructor(
    private readonly database: Database,
    private readonly options: { waitMs: number } = { waitMs: 0 },
  ) {}

  /**
   * The workspace's index. While the database is unreachable (a rebuild fails, or takes longer than
   * `waitMs`), the last one built is served: it is the list as it was last read, and nothing can
   * change it meanwhile, since every change is written to the database first.
   */
  async get(workspaceId: string): Promise<WorkspaceIndex> {
    const generation = this.generations.get(workspaceId) ?? 0;
    let cached = this.cache.get(workspaceId);
    // The hot path: built and current.
    if (cached?.ready && cached.generation === generation) return cached.ready;
    if (!cached || cached.generation !== generation) {
      const index = buildIndex(this.database, workspaceId);
      cached = { generation, index } as CachedIndex;
      this.cache.set(workspaceId, cached);
      const entry = cached;
      index.then(
        (built) => {
          entry.ready = built;
          if (this.cache.get(workspaceId) === entry) this.lastBuilt.set(workspaceId, built);
        },
        () => {
          if (this.cache.get(workspaceId) === entry) this.cache.delete(workspaceId);
        },
      );
    }
    const last = this.lastBuilt.get(workspaceId);
    if (!last) return cached.index;
    try {
      return await withinMs(cached.index, this.options.waitMs);
    } catch {
      return last;
    }
  }

  /** Status or metadata changed: rebuild quietly. */
  refresh(workspaceId: string): void {
    this.bump(workspaceId);
    this.tellReplicas(workspaceId, "refresh");
  }

  /** The tool list changed: rebuild and tell connected clients. */
  changed(workspaceId: string): void {
    this.bump(workspaceId);
    this.notifyListeners(workspaceId);
    this.tellReplicas(workspaceId, "changed");
  }

  subscribe(listener: (workspaceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts hearing other replicas; returns the way to stop. */
  listenToReplicas(): Promise<() => Promise<void>> {
    return this.database.listen(CHANNEL, (payload) => {
      const message = parseMessage(payload);
      if (!message || message.from === this.replicaId) return;
      this.bump(message.workspaceId);
      if (message.kind === "changed") this.notifyListeners(message.workspaceId);
    });
  }

  private bump(workspaceId: string): void {
    this.generations.set(workspaceId, (this.generations.get(workspaceId) ?? 0) + 1);
  }

  private notifyListeners(workspaceId: string): void {
    for (const listener of this.listeners) listener(workspaceId);
  }

  private tellReplicas(workspaceId: string, kind: "refresh" | "changed"): void {
    // Best effort: a lost message only delays another replica until its next change.
    this.database.broadcast(CHANNEL, JSON.stringify({ from: this.replicaId, workspaceId, kind })).catch(() => undefined);
  }
}

function parseMessage(payload: string): { from: string; workspaceId: string; kind: "refresh" | "changed" } | null {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    if (typeof value.from !== "string" || typeof value.workspaceId !== "string" || (value.kind !== "refresh" && value.kind !== "changed")) return null;
    return { from: value.from, workspaceId: value.workspaceId, kind: value.kind };
  } catch {
    return null;
  }
}

async function buildIndex(database: Database, workspaceId: string): Promise<WorkspaceIndex> {
  const { t } = database;
  const connections = await database.db.select().from(t.connections).where(eq(t.connections.workspaceId, workspaceId)).orderBy(t.connections.name);
  const tools = connections.length === 0
    ? []
    : await database.db.select().from(t.tools).where(inArray(t.tools.connectionId, connections.map((c) => c.id))).orderBy(t.tools.name);
  const metas = new Map<string, ConnectionMeta>(connections.map((c) => [c.id, { ...c, toolCount: 0, enabledToolCount: 0, held: { ...NO_HELD } }]));
  await countHeldItems(database, metas);
  const routes = new Map<string, RoutedTool>();
  const listed: Tool[] = [];
  // Code-unit order, the same on every dialect and replica: which of two tools whose shortened
  // names meet keeps the short one never depends on the database's collation.
  for (const row of tools.toSorted((a, b) => compare(a.name, b.name) || compare(a.connectionId, b.connectionId))) {
    const meta = metas.get(row.connectionId);
    // A name the rules refuse (a row from before them) could meet another connection's names.
    if (!meta || checkConnectionName(meta.name) !== null) continue;
    const exposedName = uniqueExposedName(meta.name, row.name, routes);
    // Only when 130-bit hashes meet: leave the tool out rather than route a name to two tools.
    if (exposedName === null) continue;
    meta.toolCount++;
    const definition = toolDefinitionOf(row);
    const callDefinition: Tool = { name: row.name, inputSchema: definition.inputSchema as Tool["inputSchema"] };
    const held = isHeld(row);
    routes.set(exposedName, { exposedName, connectionId: meta.id, connectionName: meta.name, definition, callDefinition, enabled: row.enabled, held });
    if (held) meta.held.tools++;
    const shown = listedWhileHeld(definition, row, meta.heldMode);
    if (!row.enabled) continue;
    meta.enabledToolCount++;
    if (shown) listed.push(toListedTool(exposedName, meta.name, { ...shown, name: row.name }));
  }
  return { listed, routes, connections: metas, profile: buildGatewayProfile(connections) };
}

/** Held prompts and templates per connection, for the counts connections show (the item index lists them). */
async function countHeldItems(database: Database, metas: Map<string, ConnectionMeta>): Promise<void> {
  if (metas.size === 0) return;
  const { t } = database;
  const rows = await database.db
    .select({ connectionId: t.connectionItems.connectionId, kind: t.connectionItems.kind })
    .from(t.connectionItems)
    .where(and(inArray(t.connectionItems.connectionId, [...metas.keys()]), eq(t.connectionItems.enabled, true), isNotNull(t.connectionItems.heldAt)));
  for (const row of rows) {
    const meta = metas.get(row.connectionId);
    if (!meta) continue;
    if (row.kind === "prompt") meta.held.prompts++;
    else if (row.kind === "resource_template") meta.held.resourceTemplates++;
  }
}

/**
 * The tool's exposed name, unique in the workspace: verbatim names are unique by construction
 * (connection names are, and have no `_`; a shortened name has a shape no verbatim one takes), so
 * only shortened names of one connection can meet, when their hashes do; the later one in sort
 * order then gets a longer hash.
 */
function uniqueExposedName(connectionName: string, toolName: string, taken: Map<string, RoutedTool>): string | null {
  for (const hashLength of HASH_LENGTHS) {
    const name = exposeToolName(connectionName, toolName, hashLength);
    if (!taken.has(name)) return name;
  }
  return null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The tool as its upstream listed it, under its exposed name. */
function toListedTool(exposedName: string, connectionName: string, def: ToolDefinition): Tool {
  return {
    name: exposedName,
    ...(def.title !== null ? { title: def.title } : {}),
    ...(def.description !== null ? { description: def.description } : {}),
    inputSchema: def.inputSchema as Tool["inputSchema"],
    ...(def.outputSchema ? { outputSchema: def.outputSchema as Tool["outputSchema"] } : {}),
    ...(def.annotations ? { annotations: def.annotations } : {}),
    ...(def.icons ? { icons: def.icons as Tool["icons"] } : {}),
    ...(def.execution ? { execution: def.execution as Tool["execution"] } : {}),
    // An MCP App's resource (ui://…) is read through the gateway, under the connection's URI for it.
    ...(def.meta ? { _meta: rewriteToolMeta(connectionName, def.meta) } : {}),
  };
}
