import { and, eq, inArray } from "drizzle-orm";
import type { Client, Tool } from "@modelcontextprotocol/client";
import type { Db, Database } from "../db/client.ts";
import { hashDefinition, toDefinition, toolDefinitionOf, type ToolDefinition } from "./tool-defs.ts";
import { approvalAfterSync, type HeldKind } from "./held.ts";
import { formatBytes } from "../net/response-budget.ts";
import { answerWatchOf, MAX_UPSTREAM_RESPONSE_BYTES, ToolListTooLong } from "../upstream/client.ts";

export const MAX_TOOLS_PER_CONNECTION = 2000;
/**
 * Pages of one tools/list walk. A server paging 20 tools at a time reaches the tool cap within
 * it; a list still going after that many pages is broken or hostile, and each page is a request.
 */
export const MAX_TOOL_LIST_PAGES = 100;
/**
 * Bytes of tool definitions one walk may gather, across pages: the whole list may weigh what one
 * answer may (2,000 tools at 8 KiB each), so a list of a few huge tools cannot hold more.
 */
export const MAX_TOOL_LIST_BYTES = MAX_UPSTREAM_RESPONSE_BYTES;

/**
 * `held`: what this sync found changed on an enabled item and held for review (held.ts), a new hold
 * or one that changed again; `exposed`: new items that came in on (the connection's expose_new_tools;
 * a re-sync records them in the audit trail, held-record.ts; adding a connection records its choice itself).
 */
export type SyncReport = { added: string[]; removed: string[]; changed: string[]; total: number; held: HeldEntry[]; exposed: HeldEntry[] };

export type HeldEntry = { kind: HeldKind; name: string; approvedHash: string | null; listedHash: string };

type ListPage = { tools: Tool[]; nextCursor?: string };

/**
 * Every tool the upstream lists, page by page, within the bounds above: it stops asking once the
 * tool cap is reached, and fails (ToolListTooLong) when the list outgrows its pages or bytes.
 * Each answer is itself held to MAX_UPSTREAM_RESPONSE_BYTES by the transport.
 */
export async function discoverTools(client: Client, timeoutMs: number): Promise<ToolDefinition[]> {
  if (!client.getServerCapabilities()?.tools) return [];
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  const tools: ToolDefinition[] = [];
  let bytes = 0;
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await listPage(client, cursor, Math.max(1, deadline - Date.now()));
    bytes += JSON.stringify(page.tools).length;
    if (bytes > MAX_TOOL_LIST_BYTES) throw new ToolListTooLong(`the server's tool list is larger than ${formatBytes(MAX_TOOL_LIST_BYTES)}`);
    for (const tool of page.tools) {
      if (typeof tool.name !== "string" || tool.name.length === 0 || tool.name.length > 256 || seen.has(tool.name)) continue;
      seen.add(tool.name);
      tools.push(toDefinition(tool));
      if (tools.length === MAX_TOOLS_PER_CONNECTION) return tools;
    }
    if (page.nextCursor === undefined || page.nextCursor === cursor) return tools;
    if (pages >= MAX_TOOL_LIST_PAGES) throw new ToolListTooLong(`the server's tool list did not end after ${MAX_TOOL_LIST_PAGES} pages; the gateway stopped asking`);
    cursor = page.nextCursor;
  }
}

/**
 * One page, never the SDK's own walk (which reads up to 64 pages before any cap applies). Later
 * pages go through listTools, which drops tools with invalid x-mcp-header declarations (SEP-2243);
 * the first page has no cursor, and listTools without one walks every page, so it is asked for as
 * a plain request and given the same filter.
 */
async function listPage(client: Client, cursor: string | undefined, timeout: number): Promise<ListPage> {
  // An event stream that breaks off (or outgrows its budget) before the answer ends the wait at once.
  const cutOff = new AbortController();
  const watch = answerWatchOf(client)?.watch((error) => cutOff.abort(error));
  const options = { timeout, maxTotalTimeout: timeout, signal: cutOff.signal, ...(watch ? { headers: watch.headers } : {}) };
  try {
    if (cursor !== undefined) return await client.listTools({ cursor }, options);
    const page: ListPage = await client.request({ method: "tools/list" }, options);
    excludeInvalidHeaderTools(client, page);
    return page;
  } finally {
    watch?.stop();
  }
}

// The SDK keeps this filter private; if a later version drops it, pages go unfiltered, as the
// gateway's own clients filter the list again when they read it.
function excludeInvalidHeaderTools(client: Client, page: ListPage): void {
  const filter = (client as unknown as { _excludeInvalidXMcpHeaderTools?: (result: ListPage) => void })._excludeInvalidXMcpHeaderTools;
  if (typeof filter === "function") filter.call(client, page);
}

/**
 * Makes the stored list match what the upstream listed: new tools come in as `enabled` says (the
 * connection's expose_new_tools), vanished ones go, and changed ones keep their on/off choice, an
 * enabled one held for review with its approved definition pinned (held.ts).
 */
export async function storeTools(
  tx: Db,
  database: Database,
  connectionId: string,
  definitions: ToolDefinition[],
  options: { enabled?: (name: string) => boolean; now?: number } = {},
): Promise<SyncReport> {
  const { t } = database;
  const now = options.now ?? Date.now();
  const existing = await tx.select().from(t.tools).where(eq(t.tools.connectionId, connectionId));
  const before = new Map(existing.map((row) => [row.name, row]));
  const report: SyncReport = { added: [], removed: [], changed: [], total: definitions.length, held: [], exposed: [] };
  const listed = new Set<string>();
  for (const def of definitions) {
    listed.add(def.name);
    const hash = hashDefinition(def);
    const previous = before.get(def.name);
    const columns = {
      title: def.title,
      description: def.description,
      inputSchema: def.inputSchema,
      outputSchema: def.outputSchema,
      annotations: def.annotations,
      icons: def.icons,
      meta: def.meta,
      execution: def.execution,
      definitionHash: hash,
      seenAt: now,
    };
    if (previous === undefined) {
      report.added.push(def.name);
      // New in a list the connection had before: marked for the "changed" filter (not on the first list).
      const changedAt = before.size > 0 ? now : null;
      const enabled = options.enabled?.(def.name) ?? true;
      if (enabled) report.exposed.push({ kind: "tool", name: def.name, approvedHash: null, listedHash: hash });
      await tx.insert(t.tools).values({ connectionId, name: def.name, enabled, ...columns, changedAt });
    } else {
      const match = and(eq(t.tools.connectionId, connectionId), eq(t.tools.name, def.name));
      if (previous.definitionHash === hash) {
        await tx.update(t.tools).set(columns).where(match);
        continue;
      }
      report.changed.push(def.name);
      const approval = approvalAfterSync({ ...previous, hash: previous.definitionHash, definition: toolDefinitionOf(previous) }, hash, now);
      if (approval.heldAt !== null) report.held.push({ kind: "tool", name: def.name, approvedHash: approval.approvedHash, listedHash: hash });
      await tx.update(t.tools).set({ ...columns, ...approval, changedAt: now }).where(match);
    }
  }
  report.removed = [...before.keys()].filter((name) => !listed.has(name));
  if (report.removed.length > 0) {
    await tx.delete(t.tools).where(and(eq(t.tools.connectionId, connectionId), inArray(t.tools.name, report.removed)));
  }
  return report;
}
