import { and, eq } from "drizzle-orm";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import type { Client } from "@modelcontextprotocol/client";
import type { Db, Database } from "../db/client.ts";
import { formatBytes } from "../net/response-budget.ts";
import { answerWatchOf, ToolListTooLong } from "../upstream/client.ts";
import { approvalAfterSync } from "./held.ts";
import { MAX_TOOL_LIST_BYTES, MAX_TOOL_LIST_PAGES, MAX_TOOLS_PER_CONNECTION, type SyncReport } from "./sync.ts";

/** What connection_items holds: an upstream's prompts, resources and resource templates. */
export type ItemKind = "prompt" | "resource" | "resource_template";
export const ITEM_KINDS: readonly ItemKind[] = ["prompt", "resource", "resource_template"];

/** One listed item: `name` is the prompt's name or the resource's (template's) URI; `definition` the upstream's object. */
export type ItemDefinition = { kind: ItemKind; name: string; definition: Record<string, unknown> };

type Listing = { method: string; field: string; key: "name" | "uri" | "uriTemplate"; kind: ItemKind; offered: (client: Client) => boolean };

const LISTINGS: readonly Listing[] = [
  { method: "prompts/list", field: "prompts", key: "name", kind: "prompt", offered: (c) => Boolean(c.getServerCapabilities()?.prompts) },
  { method: "resources/list", field: "resources", key: "uri", kind: "resource", offered: (c) => Boolean(c.getServerCapabilities()?.resources) },
  { method: "resources/templates/list", field: "resourceTemplates", key: "uriTemplate", kind: "resource_template", offered: (c) => Boolean(c.getServerCapabilities()?.resources) },
];

// A URI or a prompt name longer than this is not one a person could use; the row would only cost.
const MAX_ITEM_KEY = 2048;

/**
 * Every prompt, resource and resource template the upstream offers (by its capabilities), each list
 * walked page by page within the bounds tools discovery has (sync.ts): at most
 * MAX_TOOLS_PER_CONNECTION of each kind, MAX_TOOL_LIST_PAGES pages and MAX_TOOL_LIST_BYTES per list.
 */
export async function discoverItems(client: Client, timeoutMs: number): Promise<ItemDefinition[]> {
  const deadline = Date.now() + timeoutMs;
  const items: ItemDefinition[] = [];
  for (const listing of LISTINGS) {
    if (!listing.offered(client)) continue;
    items.push(...(await walkList(client, listing, deadline)));
  }
  return items;
}

async function walkList(client: Client, listing: Listing, deadline: number): Promise<ItemDefinition[]> {
  const seen = new Set<string>();
  const items: ItemDefinition[] = [];
  let bytes = 0;
  let cursor: string | undefined;
  const what = listing.method.replace("/list", "").replace("/", " ");
  for (let pages = 1; ; pages++) {
    const page = await listPage(client, listing, cursor, Math.max(1, deadline - Date.now()));
    const entries = Array.isArray(page[listing.field]) ? (page[listing.field] as unknown[]) : [];
    bytes += JSON.stringify(entries).length;
    if (bytes > MAX_TOOL_LIST_BYTES) throw new ToolListTooLong(`the server's ${what} list is larger than ${formatBytes(MAX_TOOL_LIST_BYTES)}`);
    for (const entry of entries) {
      if (typeof entry !== "object" || entry === null) continue;
      const key = (entry as Record<string, unknown>)[listing.key];
      if (typeof key !== "string" || key.length === 0 || key.length > MAX_ITEM_KEY || seen.has(key)) continue;
      seen.add(key);
      items.push({ kind: listing.kind, name: key, definition: entry as Record<string, unknown> });
      if (items.length === MAX_TOOLS_PER_CONNECTION) return items;
    }
    const next = typeof page.nextCursor === "string" ? page.nextCursor : undefined;
    if (next === undefined || next === cursor) return items;
    if (pages >= MAX_TOOL_LIST_PAGES) throw new ToolListTooLong(`the server's ${what} list did not end after ${MAX_TOOL_LIST_PAGES} pages; the gateway stopped asking`);
    cursor = next;
  }
}

/** One page as a plain request: the SDK's list verbs would walk every page and cache the answer. */
async function listPage(client: Client, listing: Listing, cursor: string | undefined, timeout: number): Promise<Record<string, unknown>> {
  const cutOff = new AbortController();
  const watch = answerWatchOf(client)?.watch((error) => cutOff.abort(error));
  const options = { timeout, maxTotalTimeout: timeout, signal: cutOff.signal, ...(watch ? { headers: watch.headers } : {}) };
  try {
    const request = { method: listing.method, ...(cursor !== undefined ? { params: { cursor } } : {}) };
    return (await client.request(request as never, options)) as Record<string, unknown>;
  } finally {
    watch?.stop();
  }
}

export function hashItem(item: ItemDefinition): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(JSON.stringify(item.definition))));
}

/**
 * Makes the stored items match what the upstream listed, as storeTools does for tools: new ones
 * come in as `enabled` says (the connection's rule for new tools), known ones keep their on/off
 * choice, vanished ones go. A changed prompt or template that is on is held for review (held.ts);
 * a resource is data the upstream lists as it likes, stored as listed.
 */
export async function storeItems(
  tx: Db,
  database: Database,
  connectionId: string,
  items: ItemDefinition[],
  options: { enabled: boolean; now?: number },
): Promise<SyncReport> {
  const { t } = database;
  const now = options.now ?? Date.now();
  const existing = await tx.select().from(t.connectionItems).where(eq(t.connectionItems.connectionId, connectionId));
  const keyOf = (kind: string, name: string): string => `${kind}\u0000${name}`;
  const before = new Map(existing.map((row) => [keyOf(row.kind, row.name), row]));
  const report: SyncReport = { added: [], removed: [], changed: [], total: items.length, held: [], exposed: [] };
  const listed = new Set<string>();
  for (const item of items) {
    const key = keyOf(item.kind, item.name);
    listed.add(key);
    const hash = hashItem(item);
    const previous = before.get(key);
    const match = and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.kind, item.kind), eq(t.connectionItems.name, item.name));
    if (!previous) {
      report.added.push(item.name);
      if (options.enabled && item.kind !== "resource") report.exposed.push({ kind: item.kind, name: item.name, approvedHash: null, listedHash: hash });
      await tx.insert(t.connectionItems).values({ connectionId, kind: item.kind, name: item.name, definition: item.definition, enabled: options.enabled, definitionHash: hash, seenAt: now });
    } else if (previous.definitionHash !== hash) {
      report.changed.push(item.name);
      const kind = item.kind;
      if (kind === "resource") {
        await tx.update(t.connectionItems).set({ definition: item.definition, definitionHash: hash, seenAt: now }).where(match);
        continue;
      }
      const approval = approvalAfterSync({ ...previous, hash: previous.definitionHash }, hash, now);
      if (approval.heldAt !== null) report.held.push({ kind, name: item.name, approvedHash: approval.approvedHash, listedHash: hash });
      await tx.update(t.connectionItems).set({ definition: item.definition, definitionHash: hash, seenAt: now, ...approval }).where(match);
    }
  }
  for (const [key, row] of before) {
    if (listed.has(key)) continue;
    report.removed.push(row.name);
    await tx.delete(t.connectionItems).where(and(eq(t.connectionItems.connectionId, connectionId), eq(t.connectionItems.kind, row.kind), eq(t.connectionItems.name, row.name)));
  }
  return report;
}
